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
//
// The suites that must hold on a sharded PostgreSQL also run on Citus
// (Citus, CitusDSN, EachDistributed): fresh schemas on the coordinator named
// by FIELDTALK_CITUS_URL (scripts/citus.sh starts a cluster), laid out by
// store.Distribute, with the same skip-or-fail rule. Their connections make
// any statement that would run on more than one shard an error
// (citus.multi_task_query_log_level), so those suites also prove that
// everything they do routes to one shard.
package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver for the admin connection

	"github.com/fieldtalk/fieldtalk/store"
)

// EnvPostgresURL names the variable holding the PostgreSQL server's URL.
const EnvPostgresURL = "FIELDTALK_POSTGRES_URL"

// EnvCitusURL names the variable holding the URL of a Citus coordinator.
const EnvCitusURL = "FIELDTALK_CITUS_URL"

// CitusShardCount is the shard count of the tables the tests distribute:
// enough that a cluster's tenants spread over both workers, few enough that
// laying out a schema per test stays quick (Citus's default is 32).
const CitusShardCount = 4

// Each runs fn as the subtests "sqlite" and "postgres", each with its own
// fresh database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// EachDistributed is Each followed by the subtests "citus", on a fresh
// distributed schema of the Citus cluster, and "pgbouncer", on a fresh
// database behind PgBouncer in transaction mode (PgBouncer): the suites
// that must hold however PostgreSQL is deployed.
func EachDistributed(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	Each(t, fn)
	t.Run("citus", func(t *testing.T) { fn(t, Citus(t)) })
	t.Run("pgbouncer", func(t *testing.T) { fn(t, PgBouncer(t)) })
}

// EnvPgBouncerURL names the variable holding the URL of a PgBouncer in
// transaction mode (scripts/pgbouncer.sh starts one) in front of a
// PostgreSQL server.
const EnvPgBouncerURL = "FIELDTALK_PGBOUNCER_URL"

// PgBouncer returns a fresh migrated store, opened
// store.WithTransactionPooling, in a database of its own reached through
// the PgBouncer named by FIELDTALK_PGBOUNCER_URL, dropped when the test
// ends. Skipped without that variable, failed under CI=true.
func PgBouncer(t testing.TB) *store.DB {
	t.Helper()
	return open(t, pgBouncerDSN(t, true), store.WithTransactionPooling())
}

// PgBouncerDSN creates an empty database on the server behind the
// PgBouncer, dropped when the test ends, and returns a DSN that reaches it
// through the PgBouncer. A database, not a schema as PostgresDSN makes:
// PgBouncer forwards no search_path, and a session setting would not
// outlive a transaction there.
func PgBouncerDSN(t testing.TB) string {
	t.Helper()
	return pgBouncerDSN(t, false)
}

// pgBouncerDSN is PgBouncerDSN, of a migrated database (a copy of
// migratedTemplate's) when migrated is set.
func pgBouncerDSN(t testing.TB, migrated bool) string {
	t.Helper()
	u, admin, name := server(t, EnvPgBouncerURL, "PgBouncer", "pgbouncer.sh", "PostgreSQL first")
	// CREATE and DROP DATABASE run outside a transaction, which PgBouncer
	// passes through in any pool mode.
	template := "template0"
	if migrated {
		template = migratedTemplate(t, admin, u)
	}
	return createDatabase(t, admin, u, name, template)
}

// createDatabase creates database name on admin's server as a copy of
// template, dropped when the test ends, and returns u leading to it.
func createDatabase(t testing.TB, admin *sql.DB, u *url.URL, name, template string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE "+template); err != nil {
		t.Fatalf("testdb: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE: a PgBouncer keeps idle server connections to it.
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("testdb: drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// SQLite returns a fresh migrated store in a file under t.TempDir(), closed
// when the test ends. The file is a copy of one migrated once per test
// process (sqliteTemplate): applying the migrations costs about half a
// second of CPU under -race, copying the file a few milliseconds. Migrate
// still runs on the copy (a no-op that checks every migration is there).
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	return open(t, SQLiteDSN(t))
}

// SQLiteDSN returns the DSN of a fresh migrated SQLite file under
// t.TempDir() (the copy SQLite opens), for tests that open it themselves.
func SQLiteDSN(t testing.TB) string {
	t.Helper()
	tmpl, err := sqliteTemplate()
	if err != nil {
		t.Fatalf("testdb: sqlite template: %v", err)
	}
	file := filepath.Join(t.TempDir(), "fieldtalk.db")
	if err := os.WriteFile(file, tmpl, 0o600); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return "sqlite:" + file
}

// sqliteTemplate returns the bytes of a freshly migrated SQLite database,
// made once per process in a directory removed right after.
var sqliteTemplate = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "fieldtalk-testdb-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	file := filepath.Join(dir, "template.db")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := store.Open(ctx, "sqlite:"+file)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	// Closing the last connection checkpoints the write-ahead log into the
	// file and removes it: the file alone is the whole database.
	if err := db.Close(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(file + "-wal"); err == nil {
		return nil, fmt.Errorf("%s-wal outlived the close: the file alone would not be the migrated database", file)
	}
	return os.ReadFile(file)
})

// Postgres returns a fresh migrated store in a database of its own, a copy
// of migratedTemplate's, dropped when the test ends.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	u, admin, name := server(t, EnvPostgresURL, "PostgreSQL", "pg.sh", "")
	return open(t, createDatabase(t, admin, u, name, migratedTemplate(t, admin, u)))
}

// migratedTemplate returns the name of a database on admin's server that
// holds the store's schema, migrated, for CREATE DATABASE … TEMPLATE:
// copying it costs a fraction of applying the migrations (about 0.1 s
// against 0.4 s a database under -race, most of it the server's CPU). It
// is named by a digest of the migration files (migrationsDigest), made
// once per server by whichever test process needs it first (the others
// wait on an advisory lock), and kept: the next runs use it until a
// migration changes. u is the server's URL as seen by the test (through
// PgBouncer, a pooled one: the template is never connected to after it is
// built, which CREATE DATABASE requires of it).
func migratedTemplate(t testing.TB, admin *sql.DB, u *url.URL) string {
	t.Helper()
	digest, err := migrationsDigest()
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	name := "ft_template_" + digest
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := admin.Conn(ctx)
	if err != nil {
		t.Fatalf("testdb: template: %v", err)
	}
	defer func() { _ = conn.Close() }()
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = '"+name+"')").Scan(&exists); err != nil {
		t.Fatalf("testdb: template: %v", err)
	}
	if exists {
		return name
	}
	// A session lock: CREATE DATABASE cannot run in a transaction.
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(hashtextextended('fieldtalk.testdb.template', 0))"); err != nil {
		t.Fatalf("testdb: template: %v", err)
	}
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtextextended('fieldtalk.testdb.template', 0))")
	}()
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = '"+name+"')").Scan(&exists); err != nil {
		t.Fatalf("testdb: template: %v", err)
	}
	if exists {
		return name
	}
	// Built under another name and renamed when complete: a process that
	// died half way leaves no template that looks finished.
	building := name + "_building"
	if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		t.Fatalf("testdb: template: %v", err)
	}
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+building+" TEMPLATE template0"); err != nil {
		t.Fatalf("testdb: template: %v", err)
	}
	tu := *u
	tu.Path = "/" + building
	// Pooled mode works on a direct connection too, and through PgBouncer
	// it is the only one that does.
	db, err := store.Open(ctx, tu.String(), store.WithTransactionPooling())
	if err != nil {
		t.Fatalf("testdb: template: %v", err)
	}
	err = db.Migrate(ctx)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("testdb: template: migrate: %v", err)
	}
	// RENAME has no FORCE: PgBouncer may still hold an idle server
	// connection to the database, which would make it fail.
	for {
		var left int
		if err := conn.QueryRowContext(ctx,
			"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '"+building+"'").Scan(&left); err != nil {
			t.Fatalf("testdb: template: %v", err)
		}
		if left == 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("testdb: template: %d connections to %s did not end: %v", left, building, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		t.Fatalf("testdb: template: %v", err)
	}
	return name
}

// migrationsDigest is a digest of the store's PostgreSQL migrations, read
// from the source tree this file was compiled from: a template made from
// other migrations is never used.
var migrationsDigest = sync.OnceValues(func() (string, error) {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("template: no source path to find the migrations by")
	}
	dir := filepath.Join(filepath.Dir(self), "..", "..", "store", "migrations", "postgres")
	files, err := filepath.Glob(filepath.Join(dir, "*.sql"))
	if err != nil || len(files) == 0 {
		return "", fmt.Errorf("template: no migrations in %s (%v)", dir, err)
	}
	h := sha256.New()
	for _, f := range files { // Glob sorts
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("template: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
})

// PostgresDSN creates an empty schema, dropped when the test ends, and
// returns a DSN whose connections use it (search_path). For tests that need
// to drive Open or Migrate themselves.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	return schemaDSN(t, EnvPostgresURL, "PostgreSQL", "pg.sh", nil)
}

// Citus returns a fresh migrated store in a schema of its own on the Citus
// cluster, laid out by Distribute, dropped when the test ends.
func Citus(t testing.TB) *store.DB {
	t.Helper()
	db := open(t, CitusDSN(t))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := db.Distribute(ctx); err != nil {
		t.Fatalf("testdb: distribute: %v", err)
	}
	return db
}

// CitusDSN is PostgresDSN on the Citus coordinator: an empty schema, and a
// DSN whose connections use it, distribute with CitusShardCount shards and
// fail every statement that would run on more than one shard. The caller
// migrates and distributes.
func CitusDSN(t testing.TB) string {
	t.Helper()
	return schemaDSN(t, EnvCitusURL, "Citus", "citus.sh", map[string]string{
		"citus.shard_count":                strconv.Itoa(CitusShardCount),
		"citus.multi_task_query_log_level": "error",
	})
}

// schemaDSN creates an empty schema on the server named by env, dropped when
// the test ends, and returns a DSN whose connections use it (search_path)
// with the given settings.
func schemaDSN(t testing.TB, env, what, script string, settings map[string]string) string {
	t.Helper()
	u, admin, schema := server(t, env, what, script, "")
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
	for k, v := range settings {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// server is the server env names (what, started by scripts/script; the
// hint says what it needs first): its URL, an admin connection closed when
// the test ends, and a fresh random name for the test's schema or database.
// Without env the test skips, or fails under CI=true.
func server(t testing.TB, env, what, script, hint string) (*url.URL, *sql.DB, string) {
	t.Helper()
	base := os.Getenv(env)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("testdb: %s is not set, and CI must run the %s tests (start one with scripts/%s)", env, what, script)
		}
		if hint != "" {
			hint = ", " + hint
		}
		t.Skipf("testdb: %s is not set: skipping %s (start one with: eval \"$(scripts/%s start /tmp/ft%s)\"%s)", env, what, script, strings.ToLower(what), hint)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("testdb: %s: %v", env, err)
	}
	// The simple protocol: through PgBouncer in transaction mode the admin
	// connection could not keep a prepared statement.
	au := *u
	aq := au.Query()
	aq.Set("default_query_exec_mode", "simple_protocol")
	au.RawQuery = aq.Encode()
	admin, err := sql.Open("pgx", au.String())
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return u, admin, "ft_" + hex.EncodeToString(b)
}

func open(t testing.TB, dsn string, opts ...store.Option) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := store.Open(ctx, dsn, opts...)
	if err != nil {
		t.Fatalf("testdb: open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("testdb: migrate: %v", err)
	}
	return db
}
