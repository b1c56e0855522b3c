package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	benchseed "github.com/fieldtalk/fieldtalk/internal/seed"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/store"
)

// EnvSeededDSN names a schema seeded by examples/bench (its DSN with
// search_path) for TestPostgresSeededPlans to plan on instead of seeding
// its own small dataset: run with -v against the benchmark's dataset, it
// prints the plans, with actual times, that docs/BENCHMARKS.md quotes.
const EnvSeededDSN = "FIELDTALK_SEEDED_DSN"

// TestPostgresSeededPlans checks, on a dataset of realistic shape (the
// benchmark's generator: businesses, staff, job assignments, visibility
// rows, read marks and counters as the store keeps them, statistics
// gathered), that the hot statements reach threads and messages through
// their indexes, both as planned for their arguments and as the generic
// plans prepared statements settle on: no sequential scan of threads or
// messages; a technician's threads found by a walk of their visibility
// rows' inbox index, and their badge summed off it, index-only; a
// dispatcher's customer threads walked off the inbox index; history off
// the messages' primary key.
func TestPostgresSeededPlans(t *testing.T) {
	ctx := context.Background()
	dsn := os.Getenv(EnvSeededDSN)
	if dsn == "" {
		dsn = testdb.PostgresDSN(t)
		start := time.Now()
		st, err := benchseed.Run(ctx, dsn, benchseed.Config{Threads: 10_000, Messages: 150_000, Businesses: 10, Staff: 400, Seed: 1})
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
		t.Logf("seeded %d threads and %d messages in %s", st.CustomerThreads+st.InternalThreads, st.Messages, time.Since(start).Round(time.Millisecond))
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	// The busiest technician (more than one page), a dispatcher of the
	// same business, and a long thread the technician sees.
	var tenant, tech, disp, thread string
	err = conn.QueryRowContext(ctx, `
SELECT v.tenant_id, v.staff_id FROM staff_thread_visibility v JOIN staff s ON s.tenant_id = v.tenant_id AND s.id = v.staff_id
WHERE s.role = 'technician' GROUP BY v.tenant_id, v.staff_id ORDER BY count(*) DESC, v.staff_id LIMIT 1`).Scan(&tenant, &tech)
	if err != nil {
		t.Fatalf("pick a technician: %v", err)
	}
	err = conn.QueryRowContext(ctx, `SELECT id FROM staff WHERE tenant_id = $1 AND role = 'dispatcher' ORDER BY id LIMIT 1`, tenant).Scan(&disp)
	if err != nil {
		t.Fatalf("pick a dispatcher: %v", err)
	}
	err = conn.QueryRowContext(ctx, `
SELECT t.id FROM staff_thread_visibility v JOIN threads t ON t.tenant_id = v.tenant_id AND t.id = v.thread_id
WHERE v.tenant_id = $1 AND v.staff_id = $2 AND t.kind = 'customer' ORDER BY t.last_seq DESC, t.id LIMIT 1`, tenant, tech).Scan(&thread)
	if err != nil {
		t.Fatalf("pick a thread: %v", err)
	}
	techScope := conversations.Scope{Tenant: conversations.TenantID(tenant), Staff: conversations.StaffID(tech), Participant: true, Assigned: true}
	dispScope := conversations.Scope{Tenant: conversations.TenantID(tenant), Staff: conversations.StaffID(disp), AllCustomer: true, Participant: true, Assigned: true}
	// A second page starts after the 50th row of the first.
	second := func(sc conversations.Scope) (time.Time, string) {
		q, args := store.InboxStatement(sc, conversations.FilterAll, 51, time.Time{}, "")
		rows, err := conn.QueryContext(ctx, "SELECT p.last_message_at, p.id FROM ("+store.Numbered(q)+") p OFFSET 49 LIMIT 1", args...)
		if err != nil {
			t.Fatalf("cursor: %v", err)
		}
		defer rows.Close()
		var at time.Time
		var id string
		if !rows.Next() {
			t.Fatalf("cursor: %s sees fewer than 50 threads", sc.Staff)
		}
		if err := rows.Scan(&at, &id); err != nil {
			t.Fatal(err)
		}
		return at, id
	}

	type stmt struct {
		name, sql, index string
		args             []any
	}
	// What a staff member sees beyond the kinds they see whole is read off
	// their visibility rows alone: a page walks the visibility inbox index
	// backwards (stopping after a page), the badge sums its entries, both
	// without visiting the table.
	const (
		visWalk = "Index Only Scan Backward using staff_thread_visibility_inbox"
		visSum  = "Index Only Scan using staff_thread_visibility_inbox"
	)
	var stmts []stmt
	for _, sc := range []struct {
		name, index string
		scope       conversations.Scope
	}{{"technician", visWalk, techScope}, {"dispatcher", "threads_inbox", dispScope}} {
		at, id := second(sc.scope)
		for _, f := range []conversations.InboxFilter{conversations.FilterAll, conversations.FilterUnread, conversations.FilterCustomer, conversations.FilterInternal} {
			index := sc.index
			if f == conversations.FilterInternal {
				index = visWalk // nobody sees every internal thread
			}
			q, args := store.InboxStatement(sc.scope, f, 51, time.Time{}, "")
			stmts = append(stmts, stmt{fmt.Sprintf("%s inbox %q", sc.name, f), q, index, args})
			q, args = store.InboxStatement(sc.scope, f, 51, at, id)
			stmts = append(stmts, stmt{fmt.Sprintf("%s inbox %q, second page", sc.name, f), q, index, args})
		}
	}
	q, args := store.BadgeStatement(techScope)
	stmts = append(stmts, stmt{"technician badge", q, visSum, args})
	q, args = store.BadgeStatement(dispScope)
	// The counters are a row per business and per reader: tiny tables the
	// planner may rightly scan; what must not be scanned is threads.
	stmts = append(stmts, stmt{"dispatcher badge", q, visSum, args})
	q, args = store.HistoryStatement(conversations.TenantID(tenant), conversations.ThreadID(thread), 0, 50)
	stmts = append(stmts, stmt{"history", q, "messages_pkey", args})
	q, args = store.HistoryStatement(conversations.TenantID(tenant), conversations.ThreadID(thread), 40, 50)
	stmts = append(stmts, stmt{"history, second page", q, "messages_pkey", args})
	q, args = store.VisibleHistoryStatement(techScope, conversations.ThreadID(thread), 0, 50)
	stmts = append(stmts, stmt{"technician history, access checked", q, "messages_pkey", args})
	q, args = store.VisibleHistoryStatement(dispScope, conversations.ThreadID(thread), 40, 50)
	stmts = append(stmts, stmt{"dispatcher history, access checked, second page", q, "messages_pkey", args})

	explain := "EXPLAIN "
	if testing.Verbose() {
		explain = "EXPLAIN (ANALYZE, BUFFERS) "
	}
	check := func(name, index, plan string) {
		if testing.Verbose() {
			t.Logf("%s:\n%s", name, plan)
		}
		for _, bad := range []string{"Seq Scan on threads", "Seq Scan on messages"} {
			if strings.Contains(plan, bad) {
				t.Errorf("%s: the plan must not contain %q:\n%s", name, bad, plan)
			}
		}
		if !strings.Contains(plan, index) {
			t.Errorf("%s: the plan must use %s:\n%s", name, index, plan)
		}
	}
	for _, s := range stmts {
		check(s.name, s.index, planOf(t, ctx, conn, explain+store.Numbered(s.sql), s.args...))
	}
	// Every message moves its thread's visibility rows: that must find
	// them by the primary key, which leads with the thread. (Planned only:
	// EXPLAIN ANALYZE would run the update.)
	bump := store.Numbered(store.BumpVisibilityStatement)
	bumpArgs := []any{time.Now(), time.Now(), int64(1 << 40), tenant, thread}
	checkBump := func(name, plan string) {
		if testing.Verbose() {
			t.Logf("%s:\n%s", name, plan)
		}
		if !strings.Contains(plan, "staff_thread_visibility_pkey") || strings.Contains(plan, "Seq Scan") {
			t.Errorf("%s: the thread's rows must be found by the visibility primary key:\n%s", name, plan)
		}
	}
	checkBump("per-message visibility update", planOf(t, ctx, conn, "EXPLAIN "+bump, bumpArgs...))

	if _, err := conn.ExecContext(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "RESET plan_cache_mode; DEALLOCATE ALL")
	if _, err := conn.ExecContext(ctx, "PREPARE seeded_bump AS "+bump); err != nil {
		t.Fatalf("per-message visibility update: prepare: %v", err)
	}
	checkBump("per-message visibility update (generic plan)", planOf(t, ctx, conn, "EXPLAIN EXECUTE seeded_bump($1, $2, $3, $4, $5)", bumpArgs...))
	for i, s := range stmts {
		name := fmt.Sprintf("seeded_plan_%d", i)
		if _, err := conn.ExecContext(ctx, "PREPARE "+name+" AS "+store.Numbered(s.sql)); err != nil {
			t.Fatalf("%s: prepare: %v", s.name, err)
		}
		marks := make([]string, len(s.args))
		for j := range marks {
			marks[j] = fmt.Sprintf("$%d", j+1)
		}
		check(s.name+" (generic plan)", s.index, planOf(t, ctx, conn, explain+"EXECUTE "+name+"("+strings.Join(marks, ", ")+")", s.args...))
	}
}

func planOf(t *testing.T, ctx context.Context, conn *sql.Conn, query string, args ...any) string {
	t.Helper()
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return strings.Join(plan, "\n")
}
