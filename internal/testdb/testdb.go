// Package testdb gives tests a fresh, migrated fieldtalk store on each
// database the store supports, so one test body runs on SQLite and on
// PostgreSQL alike:
//
//	testdb.Each(t, func(t *testing.T, db *store.DB) { ... })
//
// SQLite databases are files in t.TempDir(). PostgreSQL databases are fresh
// schemas on the server named by FIELDTALK_POSTGRES_URL (scripts/pg.sh starts
// one), dropped when the test ends. Without that variable PostgreSQL tests
// are skipped, except under CI=true, where they fail: CI must never pass
// without having run them.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver for the admin connection

	"github.com/fieldtalk/fieldtalk/store"
)

// EnvPostgresURL names the variable holding the PostgreSQL server's URL.
const EnvPostgresURL = "FIELDTALK_POSTGRES_URL"

// Each runs fn as the subtests "sqlite" and "postgres", each with its own
// fresh database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite returns a fresh migrated store in a file under t.TempDir(), closed
// when the test ends.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	return open(t, "sqlite:"+filepath.Join(t.TempDir(), "fieldtalk.db"))
}

// Postgres returns a fresh migrated store in a schema of its own, dropped
// when the test ends.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	return open(t, PostgresDSN(t))
}

// PostgresDSN creates an empty schema, dropped when the test ends, and
// returns a DSN whose connections use it (search_path). For tests that need
// to drive Open or Migrate themselves.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgresURL)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("testdb: %s is not set, and CI must run the PostgreSQL tests (start a server with scripts/pg.sh)", EnvPostgresURL)
		}
		t.Skipf("testdb: %s is not set: skipping PostgreSQL (start a server with: eval \"$(scripts/pg.sh start /tmp/ftpg)\")", EnvPostgresURL)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("testdb: %s: %v", EnvPostgresURL, err)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "ft_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("testdb: create schema: %v", err)
	}
	// Cleanups run last-in first-out: a store opened on this DSN is closed
	// before the schema goes.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("testdb: drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func open(t testing.TB, dsn string) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("testdb: open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("testdb: migrate: %v", err)
	}
	return db
}
