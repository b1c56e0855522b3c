package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// migrationFS holds one directory of numbered SQL files per dialect
// (0001_core.sql, 0002_...). The dialects get their own files because the SQL
// differs (types, INCLUDE, fillfactor, WITHOUT ROWID), not only in spelling.
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func (s *DB) migrations() ([]migration, error) {
	dir := "migrations/" + s.dialect
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("store: migrate: %s: file names are NNNN_name.sql", name)
		}
		body, err := fs.ReadFile(migrationFS, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("store: migrate: %w", err)
		}
		out = append(out, migration{version: v, name: strings.TrimSuffix(name, ".sql"), sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("store: migrate: two migrations numbered %d", out[i].version)
		}
	}
	return out, nil
}

// Migrate brings the schema up to date: it applies, in order and each in its
// own transaction, the embedded migrations not yet recorded in
// fieldtalk_migrations. Running it again is a no-op. On PostgreSQL it holds
// an advisory lock (per schema) while it works, so processes starting
// together apply each migration once; on SQLite the immediate transaction
// serializes them.
func (s *DB) Migrate(ctx context.Context) error {
	return s.migrateTo(ctx, math.MaxInt)
}

// migrateTo is Migrate stopping after the migration numbered last (tests of
// a migration's backfill start from the schema before it).
func (s *DB) migrateTo(ctx context.Context, last int) error {
	if s.tx != nil {
		return errors.New("store: migrate: not inside a transaction: each migration commits on its own")
	}
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	// The lock is taken in its own transaction per migration: a later
	// migration (River's tables) may need to see an earlier one committed.
	for _, m := range ms {
		if m.version > last {
			break
		}
		applied := false
		err := s.root.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if s.pg() {
				// Keyed by schema, so databases in different schemas (tests)
				// migrate side by side.
				if _, err := tx.ExecContext(ctx,
					"SELECT pg_advisory_xact_lock(hashtextextended('fieldtalk.migrate:' || current_schema(), 0))"); err != nil {
					return err
				}
			}
			// The bookkeeping table has no tenant_id (nor have River's
			// tables, which store/outbox migrates): it describes the
			// schema, not a business.
			if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS fieldtalk_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at text NOT NULL
)`); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx,
				"SELECT count(*) FROM fieldtalk_migrations WHERE version = ?", m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			// Straight to the driver: the file is SQL as written, not a bun
			// template whose ? would be taken for placeholders.
			if _, err := tx.Tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx,
				"INSERT INTO fieldtalk_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.version, m.name, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
				return err
			}
			applied = true
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		if applied {
			s.cfg.log.LogAttrs(ctx, slog.LevelInfo, "store: migration applied",
				slog.String("dialect", s.dialect), slog.String("migration", m.name))
		}
	}
	return nil
}
