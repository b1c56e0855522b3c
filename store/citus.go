package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// anchorTable is the distributed table every other tenant table is
// co-located with: a business's rows of all of them live in one shard group,
// on one worker, so that every statement of a request (joins and
// transactions included) runs on that worker alone.
const anchorTable = "staff"

// referenceTables are replicated to every node instead of distributed: the
// number → business lookup is the one read that does not know the business
// yet (an inbound message names only the number), and its unique index on the
// number alone keeps a number provisioned to one business only, which a
// table sharded by tenant could not check.
var referenceTables = map[string]bool{"business_numbers": true}

// Distribute lays the schema out on a Citus cluster: every table of the
// store's schema with a tenant_id column is distributed by tenant_id and
// co-located with staff, business_numbers becomes a reference table, and
// what has no tenant_id stays on the coordinator (fieldtalk_migrations and
// the job queue's tables: River's fetch and its unique-job checks read
// across businesses, which only a single node answers in one statement).
//
// Call it after Migrate, at every start: tables already laid out are left
// alone, so it only does work the first time and after a migration added a
// table. Concurrent callers wait for each other (an advisory lock per
// schema). Tables that already hold rows are copied into their shards by
// Citus (see its truncate_local_data_after_distributing_table).
//
// On a database without the citus extension it returns an error wrapping
// conversations.ErrUnavailable that names the extension, and changes
// nothing; on SQLite, an error wrapping conversations.ErrInvalid.
func (s *DB) Distribute(ctx context.Context) error {
	const op = "distribute"
	if !s.pg() {
		return fmt.Errorf("store: %s: Citus is a PostgreSQL extension; this store is %s: %w", op, s.dialect, conversations.ErrInvalid)
	}
	if s.tx != nil {
		return fmt.Errorf("store: %s: not inside a transaction: Citus lays each table out on its own: %w", op, conversations.ErrInvalid)
	}
	conn, err := s.root.Conn(ctx)
	if err != nil {
		return dbErr(op, err)
	}
	defer conn.Close()
	var version sql.NullString
	if err := conn.QueryRowContext(ctx, `SELECT (SELECT extversion FROM pg_extension WHERE extname = 'citus')`).Scan(&version); err != nil {
		return dbErr(op, err)
	}
	if !version.Valid {
		return fmt.Errorf("store: %s: the citus extension is not installed in this database (CREATE EXTENSION citus, with citus in shared_preload_libraries): %w",
			op, conversations.ErrUnavailable)
	}
	// A session lock, since the layout functions commit on their own; keyed
	// by schema like Migrate's.
	const lockKey = "hashtextextended('fieldtalk.distribute:' || current_schema(), 0)"
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+lockKey+")"); err != nil {
		return dbErr(op, err)
	}
	defer func() {
		// A fresh context: the caller's may be done, and the lock must go
		// before the connection returns to the pool.
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock("+lockKey+")")
	}()

	// The tables left to lay out, with the tables their foreign keys point
	// to: a table is distributed after those, as Citus requires.
	rows, err := conn.QueryContext(ctx, `SELECT c.relname,
  coalesce(array_to_string(array(SELECT DISTINCT f.confrelid::regclass::text FROM pg_constraint f
    WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.confrelid <> c.oid), ','), '')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
  AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = c.oid)
ORDER BY c.relname`)
	if err != nil {
		return dbErr(op, err)
	}
	type table struct {
		name string
		refs []string
	}
	var pending []table
	for rows.Next() {
		var t table
		var refs string
		if err := rows.Scan(&t.name, &refs); err != nil {
			_ = rows.Close()
			return dbErr(op, err)
		}
		if refs != "" {
			t.refs = strings.Split(refs, ",")
		}
		pending = append(pending, t)
	}
	if err := rows.Close(); err != nil {
		return dbErr(op, err)
	}
	if err := rows.Err(); err != nil {
		return dbErr(op, err)
	}

	var schema string
	if err := conn.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return dbErr(op, err)
	}
	laidOut := func(name string) (bool, error) {
		var ok bool
		err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = to_regclass(?))`, name).Scan(&ok)
		return ok, err
	}
	anchor := pgx.Identifier{schema, anchorTable}.Sanitize()
	for len(pending) > 0 {
		progressed := false
		for i := 0; i < len(pending); i++ {
			t := pending[i]
			ready := true
			for _, r := range t.refs {
				ok, err := laidOut(r)
				if err != nil {
					return dbErr(op, err)
				}
				if !ok {
					ready = false
					break
				}
			}
			// Every distributed table follows the anchor's placement.
			if ready && t.name != anchorTable && !referenceTables[t.name] {
				ok, err := laidOut(anchor)
				if err != nil {
					return dbErr(op, err)
				}
				ready = ok
			}
			if !ready {
				continue
			}
			qualified := pgx.Identifier{schema, t.name}.Sanitize()
			var err error
			switch {
			case referenceTables[t.name]:
				_, err = conn.ExecContext(ctx, "SELECT create_reference_table(?)", qualified)
			case t.name == anchorTable:
				_, err = conn.ExecContext(ctx, "SELECT create_distributed_table(?, 'tenant_id')", qualified)
			default:
				_, err = conn.ExecContext(ctx, "SELECT create_distributed_table(?, 'tenant_id', colocate_with => ?)", qualified, anchor)
			}
			if err != nil {
				return fmt.Errorf("store: %s: %s: %w", op, t.name, err)
			}
			s.cfg.log.LogAttrs(ctx, slog.LevelInfo, "store: table laid out on citus", slog.String("table", t.name))
			pending = append(pending[:i], pending[i+1:]...)
			i--
			progressed = true
		}
		if !progressed {
			return fmt.Errorf("store: %s: %s references a table that cannot be distributed", op, pending[0].name)
		}
	}
	s.cfg.distributed.Store(true)
	return nil
}
