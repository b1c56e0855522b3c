// Package seed fills a migrated fieldtalk PostgreSQL schema with a
// realistic field-service dataset, fast: the rows go in by COPY (pgx), with
// the big tables' keys and indexes dropped around it and rebuilt afterwards,
// and the tables the store derives (staff_thread_visibility, read_marks,
// tenant_counters, staff_read_counters) are computed in SQL the way the
// store itself would have kept them. It is what examples/bench measures on,
// and what the store's seeded plan test plans on (it lives under internal/
// so that a library test does not depend on an example).
//
// The shape, for Config{Threads: 100_000, Messages: 2_000_000, Businesses:
// 50, Staff: 2_000}: 50 businesses with one SMS number each; 40 staff per
// business (one admin, a tenth dispatchers, the rest technicians, each
// technician with a workload weight so that some see three times what
// others do); 100,000 customer threads, each linked to 1–3 jobs that have
// 1–3 technician assignees; one technician taking part in one customer
// thread in twenty (they started it); one internal thread started by each
// staff member with 1–3 others, one in five about a job (so each person
// takes part in about three); 2,000,000 messages spread
// over the threads with an exponential length distribution (a few long
// threads, many short ones) over the past year, stored in arrival order;
// about 2% of threads archived; read marks for most of what each person
// sees. Config.Assigned keeps a technician's share constant as threads
// grow: at ten times the default size only the newest tenth of jobs keep
// their assignees.
package seed

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fieldtalk/fieldtalk/store"
)

// Config is the dataset's size. Zero fields take the defaults below.
type Config struct {
	Threads    int    // customer threads
	Messages   int    // messages over all threads (about: lengths are drawn)
	Businesses int    // tenants
	Staff      int    // staff over all businesses
	Seed       uint64 // random seed; the same seed gives the same data
	// Assigned is the share of jobs, the newest, that still have their
	// assignees: hosts sync the assignments of current jobs, and a job
	// done years ago has none. Zero means DefaultThreads/Threads, at most 1:
	// every job at the default size, the newest tenth at ten times it, so
	// that a technician sees about as much at both sizes (as the 10×
	// dataset of the measurements the schema was designed from did).
	Assigned float64
	// Log receives progress lines (nil: none).
	Log io.Writer
}

// Defaults are the dataset.
const (
	DefaultThreads    = 100_000
	DefaultMessages   = 2_000_000
	DefaultBusinesses = 50
	DefaultStaff      = 2_000
)

func (c *Config) defaults() {
	if c.Threads <= 0 {
		c.Threads = DefaultThreads
	}
	if c.Messages <= 0 {
		c.Messages = DefaultMessages
	}
	if c.Businesses <= 0 {
		c.Businesses = DefaultBusinesses
	}
	if c.Staff <= 0 {
		c.Staff = DefaultStaff
	}
	if c.Staff < 3*c.Businesses {
		c.Staff = 3 * c.Businesses // an admin, a dispatcher and a technician each
	}
	if c.Assigned <= 0 {
		c.Assigned = min(1, float64(DefaultThreads)/float64(c.Threads))
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// Stats counts what was seeded and how long each step took.
type Stats struct {
	Tenants, Staff, CustomerThreads, InternalThreads  int64
	Messages, Jobs, Assignments, Participants         int64
	VisibilityRows, ReadMarks                         int64
	Copy, Indexes, Derived, Analyze, Total            time.Duration
	MedianTechnicianThreads, MaxTechnicianThreads     int64
	TechniciansWithFivePages, TechniciansWithAnything int64
}

// Run seeds the schema dsn points at (its search_path), which must be
// migrated by store.Migrate and hold no threads yet. It migrates first, so
// an empty schema is fine.
func Run(ctx context.Context, dsn string, cfg Config) (Stats, error) {
	cfg.defaults()
	start := time.Now()
	var st Stats
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return st, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return st, err
	}
	db.Close()

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return st, fmt.Errorf("seed: connect: %w", err)
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM threads").Scan(&n); err != nil {
		return st, fmt.Errorf("seed: %w", err)
	}
	if n > 0 {
		return st, fmt.Errorf("seed: the schema already holds %d threads", n)
	}
	for _, s := range []string{
		"SET maintenance_work_mem = '1GB'",
		"SET synchronous_commit = off",
	} {
		if _, err := conn.Exec(ctx, s); err != nil {
			return st, fmt.Errorf("seed: %s: %w", s, err)
		}
	}

	saved, err := dropKeys(ctx, conn, bulkTables)
	if err != nil {
		return st, err
	}
	g := newGenerator(cfg)
	t0 := time.Now()
	if err := g.copyAll(ctx, conn, &st); err != nil {
		return st, err
	}
	st.Copy = time.Since(t0)
	fmt.Fprintf(cfg.Log, "seed: copied %d customer + %d internal threads, %d messages in %s\n",
		st.CustomerThreads, st.InternalThreads, st.Messages, st.Copy.Round(time.Millisecond))

	t0 = time.Now()
	if err := restoreKeys(ctx, conn, saved, func(table string) bool { return table != "staff_thread_visibility" && table != "read_marks" }); err != nil {
		return st, err
	}
	st.Indexes = time.Since(t0)
	t0 = time.Now()
	if err := derive(ctx, conn, cfg.Seed, &st); err != nil {
		return st, err
	}
	if err := restoreKeys(ctx, conn, saved, func(table string) bool { return table == "staff_thread_visibility" || table == "read_marks" }); err != nil {
		return st, err
	}
	if err := counters(ctx, conn); err != nil {
		return st, err
	}
	st.Derived = time.Since(t0)
	fmt.Fprintf(cfg.Log, "seed: keys and indexes in %s, derived tables in %s\n",
		st.Indexes.Round(time.Millisecond), st.Derived.Round(time.Millisecond))

	t0 = time.Now()
	if err := vacuum(ctx, conn); err != nil {
		return st, err
	}
	st.Analyze = time.Since(t0)
	if err := describe(ctx, conn, &st); err != nil {
		return st, err
	}
	st.Total = time.Since(start)
	fmt.Fprintf(cfg.Log, "seed: vacuum analyze in %s; total %s\n", st.Analyze.Round(time.Millisecond), st.Total.Round(time.Millisecond))
	return st, nil
}

// bulkTables are the tables whose keys and indexes are dropped around the
// COPY: building an index once over sorted input is far cheaper than
// maintaining it row by row, and a foreign key checked once by a join is far
// cheaper than a trigger per row.
var bulkTables = []string{"threads", "thread_participants", "thread_jobs", "job_assignments",
	"staff_thread_visibility", "messages", "read_marks"}

type savedKey struct {
	table, name, def string
	kind             byte // 'p' primary key, 'u' unique, 'f' foreign key, 'i' plain index
}

// dropKeys drops the tables' primary keys, unique constraints, foreign keys
// and indexes, and the foreign keys of other tables that point at them
// (thread_mutes', say: a referenced key cannot go while they stand), and
// returns their definitions (as PostgreSQL prints them) to put back exactly.
func dropKeys(ctx context.Context, conn *pgx.Conn, tables []string) ([]savedKey, error) {
	var saved []savedKey
	rows, err := conn.Query(ctx, `
SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype::text
FROM pg_constraint c
WHERE (c.conrelid = ANY (SELECT to_regclass(t)::oid FROM unnest($1::text[]) t) AND c.contype IN ('p', 'u', 'f'))
   OR (c.confrelid = ANY (SELECT to_regclass(t)::oid FROM unnest($1::text[]) t) AND c.contype = 'f')
ORDER BY c.contype = 'f' DESC`, tables)
	if err != nil {
		return nil, fmt.Errorf("seed: read constraints: %w", err)
	}
	for rows.Next() {
		var k savedKey
		var kind string
		if err := rows.Scan(&k.table, &k.name, &k.def, &kind); err != nil {
			return nil, err
		}
		k.kind = kind[0]
		saved = append(saved, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("seed: read constraints: %w", err)
	}
	rows, err = conn.Query(ctx, `
SELECT i.indrelid::regclass::text, c.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = ANY (SELECT to_regclass(t)::oid FROM unnest($1::text[]) t)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)`, tables)
	if err != nil {
		return nil, fmt.Errorf("seed: read indexes: %w", err)
	}
	for rows.Next() {
		k := savedKey{kind: 'i'}
		if err := rows.Scan(&k.table, &k.name, &k.def); err != nil {
			return nil, err
		}
		saved = append(saved, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("seed: read indexes: %w", err)
	}
	// Foreign keys first (they depend on the keys they reference).
	for _, k := range saved {
		var q string
		if k.kind == 'i' {
			q = "DROP INDEX " + pgx.Identifier{k.name}.Sanitize()
		} else {
			q = "ALTER TABLE " + k.table + " DROP CONSTRAINT " + pgx.Identifier{k.name}.Sanitize()
		}
		if _, err := conn.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("seed: %s: %w", q, err)
		}
	}
	return saved, nil
}

// restoreKeys puts back the saved keys of the tables keep selects: primary
// keys and unique constraints, then indexes, then foreign keys.
func restoreKeys(ctx context.Context, conn *pgx.Conn, saved []savedKey, keep func(table string) bool) error {
	for _, pass := range []byte{'p', 'u', 'i', 'f'} {
		for _, k := range saved {
			if k.kind != pass || !keep(k.table) {
				continue
			}
			var q string
			if k.kind == 'i' {
				q = k.def
			} else {
				q = "ALTER TABLE " + k.table + " ADD CONSTRAINT " + pgx.Identifier{k.name}.Sanitize() + " " + k.def
			}
			if _, err := conn.Exec(ctx, q); err != nil {
				return fmt.Errorf("seed: %s: %w", q, err)
			}
		}
	}
	return nil
}

// derive computes what the store keeps from the seeded rows: each staff
// member's visibility rows (participant flag and the count of linked job
// assignments, as linkJob/assign maintain them) and read marks for most of
// what each person sees (read up to the newest message or a few behind,
// never 0: MarkRead never stores a horizon of 0); then the visibility rows
// go in with their copies of the thread's kind, archived flag,
// last_message_at and last_seq and of the staff member's read horizon, as
// the store's inserts, AppendMessage, SetArchived and MarkRead keep them.
// The rows are gathered in a temporary table first, so that the read marks
// can be drawn from them and each visibility row written once.
func derive(ctx context.Context, conn *pgx.Conn, seed uint64, st *Stats) error {
	steps := []struct {
		what string
		sql  string
		n    *int64
	}{
		{"visibility", `
CREATE TEMPORARY TABLE seed_visibility AS
SELECT tenant_id, staff_id, thread_id, bool_or(p) AS participant, sum(j)::int AS job_refs
FROM (
  SELECT p.tenant_id, p.staff_id, p.thread_id, true AS p, 0 AS j FROM thread_participants p
  UNION ALL
  SELECT a.tenant_id, a.staff_id, tj.thread_id, false, 1
  FROM job_assignments a JOIN thread_jobs tj ON tj.tenant_id = a.tenant_id AND tj.job_id = a.job_id
) s
GROUP BY tenant_id, staff_id, thread_id`, nil},
		{"random seed", fmt.Sprintf("SELECT setseed(%f)", float64(seed%1000)/1000), nil},
		{"read marks of technicians and participants", `
INSERT INTO read_marks (tenant_id, staff_id, thread_id, read_seq)
SELECT v.tenant_id, v.staff_id, v.thread_id,
  greatest(1, t.last_seq - CASE WHEN random() < 0.7 THEN 0 ELSE floor(random() * 6)::int END)
FROM seed_visibility v
JOIN threads t ON t.tenant_id = v.tenant_id AND t.id = v.thread_id
WHERE t.last_seq > 0 AND (v.participant OR t.kind = 'customer') AND random() < 0.85`, &st.ReadMarks},
		{"read marks of dispatchers and admins", `
INSERT INTO read_marks (tenant_id, staff_id, thread_id, read_seq)
SELECT s.tenant_id, s.id, t.id,
  greatest(1, t.last_seq - CASE WHEN random() < 0.7 THEN 0 ELSE floor(random() * 6)::int END)
FROM staff s
JOIN threads t ON t.tenant_id = s.tenant_id AND t.kind = 'customer'
WHERE s.role IN ('dispatcher', 'admin') AND t.last_seq > 0 AND random() < 0.6
  AND NOT EXISTS (SELECT 1 FROM thread_participants p
                  WHERE p.tenant_id = s.tenant_id AND p.thread_id = t.id AND p.staff_id = s.id)`, &st.ReadMarks},
		{"visibility rows", `
INSERT INTO staff_thread_visibility (tenant_id, staff_id, thread_id, participant, job_refs,
  kind, archived, last_message_at, last_seq, read_seq)
SELECT v.tenant_id, v.staff_id, v.thread_id, v.participant, v.job_refs,
  t.kind, t.archived, t.last_message_at, t.last_seq, coalesce(r.read_seq, 0)
FROM seed_visibility v
JOIN threads t ON t.tenant_id = v.tenant_id AND t.id = v.thread_id
LEFT JOIN read_marks r ON r.tenant_id = v.tenant_id AND r.staff_id = v.staff_id AND r.thread_id = v.thread_id`, &st.VisibilityRows},
		{"drop the temporary table", "DROP TABLE seed_visibility", nil},
	}
	for _, s := range steps {
		tag, err := conn.Exec(ctx, s.sql)
		if err != nil {
			return fmt.Errorf("seed: %s: %w", s.what, err)
		}
		if s.n != nil {
			*s.n += tag.RowsAffected()
		}
	}
	return nil
}

// counters fills the dispatcher-badge counters as AppendMessage, MarkRead
// and SetArchived keep them: the tenant's sum of last_seq and each staff
// member's sum of read_seq, both over non-archived customer threads.
func counters(ctx context.Context, conn *pgx.Conn) error {
	for _, q := range []string{
		`INSERT INTO tenant_counters (tenant_id, customer_seq_sum)
SELECT tenant_id, sum(last_seq) FROM threads WHERE kind = 'customer' AND NOT archived GROUP BY tenant_id`,
		`INSERT INTO staff_read_counters (tenant_id, staff_id, customer_read_sum)
SELECT r.tenant_id, r.staff_id, sum(r.read_seq)
FROM read_marks r JOIN threads t ON t.tenant_id = r.tenant_id AND t.id = r.thread_id
WHERE t.kind = 'customer' AND NOT t.archived
GROUP BY r.tenant_id, r.staff_id`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("seed: counters: %w", err)
		}
	}
	return nil
}

// vacuum vacuums and analyzes the schema's tables only: the server may
// hold other datasets, which a database-wide VACUUM would go through too.
func vacuum(ctx context.Context, conn *pgx.Conn) error {
	var tables []string
	rows, err := conn.Query(ctx, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
	if err != nil {
		return fmt.Errorf("seed: vacuum analyze: %w", err)
	}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return err
		}
		tables = append(tables, pgx.Identifier{t}.Sanitize())
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("seed: vacuum analyze: %w", err)
	}
	if _, err := conn.Exec(ctx, "VACUUM (ANALYZE) "+strings.Join(tables, ", ")); err != nil {
		return fmt.Errorf("seed: vacuum analyze: %w", err)
	}
	return nil
}

// describe fills the dataset's shape into st.
func describe(ctx context.Context, conn *pgx.Conn, st *Stats) error {
	err := conn.QueryRow(ctx, `
WITH per AS (
  SELECT s.tenant_id, s.id, count(v.thread_id) FILTER (WHERE v.participant OR (v.job_refs > 0 AND t.kind = 'customer')) AS n
  FROM staff s
  LEFT JOIN staff_thread_visibility v ON v.tenant_id = s.tenant_id AND v.staff_id = s.id
  LEFT JOIN threads t ON t.tenant_id = v.tenant_id AND t.id = v.thread_id AND NOT t.archived
  WHERE s.role = 'technician'
  GROUP BY s.tenant_id, s.id
)
SELECT coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY n), 0), coalesce(max(n), 0),
  count(*) FILTER (WHERE n > 200), count(*) FILTER (WHERE n > 0)
FROM per`).Scan(&st.MedianTechnicianThreads, &st.MaxTechnicianThreads, &st.TechniciansWithFivePages, &st.TechniciansWithAnything)
	if err != nil {
		return fmt.Errorf("seed: describe: %w", err)
	}
	return nil
}

// rng returns a generator for one stream of the dataset.
func rng(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }
