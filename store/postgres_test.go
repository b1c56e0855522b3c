package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/store"
)

// Processes that start together all migrate; each migration is applied once.
func TestPostgresConcurrentMigrate(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	ctx := context.Background()
	const n = 4
	dbs := make([]*store.DB, n)
	for i := range dbs {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Migrate(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate %d: concurrent migrations must all succeed: %v", i, err)
		}
	}
	var rows, versions int
	err := dbs[0].SQL().QueryRowContext(ctx, "SELECT count(*), count(DISTINCT version) FROM fieldtalk_migrations").Scan(&rows, &versions)
	if err != nil {
		t.Fatal(err)
	}
	if rows == 0 || rows != versions {
		t.Errorf("each migration is recorded once: %d rows for %d versions", rows, versions)
	}
}

// seedPlans fills a schema with a few thousand rows in 20 businesses, so
// that the planner has statistics to choose by.
const seedPlans = `
INSERT INTO threads (tenant_id, id, kind, business_number, contact_address, contact_phone, created_at,
  last_message_at, last_seq, preview, archived)
SELECT 'tenant-' || (g % 20), 'thread-' || lpad(g::text, 6, '0'),
  CASE WHEN g % 10 = 0 THEN 'internal' ELSE 'customer' END,
  CASE WHEN g % 10 = 0 THEN '' ELSE '+15550000000' END,
  CASE WHEN g % 10 = 0 THEN '' ELSE '+1555' || g END,
  CASE WHEN g % 10 = 0 THEN '' ELSE '+1555' || g END,
  timestamptz '2024-06-01 00:00:00+00' - g * interval '1 minute',
  timestamptz '2024-06-01 00:00:00+00' - (g % 997) * interval '1 second', 5, 'preview', g % 17 = 0
FROM generate_series(1, 4000) g;

INSERT INTO messages (tenant_id, thread_id, seq, id, kind, direction, channel, author_type, body, created_at, status)
SELECT t.tenant_id, t.id, s, t.id || '-' || s, 'customer_sms', 'inbound', 'sms', 'customer', 'body',
  t.last_message_at, 'received'
FROM threads t, generate_series(1, 5) s;

INSERT INTO staff_thread_visibility (tenant_id, staff_id, thread_id, participant, job_refs,
  kind, archived, last_message_at, last_seq, read_seq)
SELECT tenant_id, 'staff-' || (abs(hashtext(id)) % 20), id, kind = 'internal', CASE WHEN kind = 'customer' THEN 1 ELSE 0 END,
  kind, archived, last_message_at, last_seq, 3
FROM threads;
INSERT INTO staff_thread_visibility (tenant_id, staff_id, thread_id, participant, job_refs,
  kind, archived, last_message_at, last_seq, read_seq)
SELECT tenant_id, 'staff-' || ((abs(hashtext(id)) + 7) % 20), id, true, 0,
  kind, archived, last_message_at, last_seq, 3
FROM threads
ON CONFLICT DO NOTHING;

INSERT INTO read_marks (tenant_id, staff_id, thread_id, read_seq)
SELECT tenant_id, staff_id, thread_id, 3 FROM staff_thread_visibility;

INSERT INTO tenant_counters (tenant_id, customer_seq_sum)
SELECT tenant_id, sum(last_seq) FROM threads WHERE kind = 'customer' AND NOT archived GROUP BY tenant_id;

ANALYZE;
`

// The hot statements must reach threads and messages through their indexes,
// both as planned for their actual arguments and as generic prepared
// statements (how they run in production).
func TestPostgresPlans(t *testing.T) {
	db := testdb.Postgres(t)
	ctx := context.Background()
	if _, err := db.SQL().ExecContext(ctx, seedPlans); err != nil {
		t.Fatalf("seed: %v", err)
	}
	tenant, staff := conversations.TenantID("tenant-3"), conversations.StaffID("staff-5")
	tech := conversations.Scope{Tenant: tenant, Staff: staff, Participant: true, Assigned: true}
	disp := conversations.Scope{Tenant: tenant, Staff: staff, AllCustomer: true, Participant: true}
	at := time.Date(2024, 5, 31, 23, 50, 0, 0, time.UTC)
	type stmt struct {
		name string
		sql  string
		args []any
	}
	var stmts []stmt
	for _, sc := range []struct {
		name  string
		scope conversations.Scope
	}{{"technician", tech}, {"dispatcher", disp}} {
		for _, f := range []conversations.InboxFilter{conversations.FilterAll, conversations.FilterUnread, conversations.FilterCustomer, conversations.FilterInternal} {
			q, args := store.InboxStatement(sc.scope, f, 51, time.Time{}, "")
			stmts = append(stmts, stmt{fmt.Sprintf("%s inbox %q", sc.name, f), q, args})
			q, args = store.InboxStatement(sc.scope, f, 51, at, "thread-000500")
			stmts = append(stmts, stmt{fmt.Sprintf("%s inbox %q, second page", sc.name, f), q, args})
		}
		q, args := store.BadgeStatement(sc.scope)
		stmts = append(stmts, stmt{sc.name + " badge", q, args})
	}
	q, args := store.HistoryStatement(tenant, "thread-000003", 0, 50)
	stmts = append(stmts, stmt{"history", q, args})
	q, args = store.HistoryStatement(tenant, "thread-000003", 4, 50)
	stmts = append(stmts, stmt{"history, second page", q, args})
	q, args = store.VisibleHistoryStatement(tech, "thread-000003", 0, 50)
	stmts = append(stmts, stmt{"technician history, access checked", q, args})
	q, args = store.VisibleHistoryStatement(disp, "thread-000003", 4, 50)
	stmts = append(stmts, stmt{"dispatcher history, access checked, second page", q, args})

	conn, err := db.Bun().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	explain := func(query string, args ...any) string {
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
		return strings.Join(plan, "\n")
	}
	check := func(name, plan string) {
		if testing.Verbose() {
			t.Logf("%s:\n%s", name, plan)
		}
		for _, bad := range []string{"Seq Scan on threads", "Seq Scan on messages"} {
			if strings.Contains(plan, bad) {
				t.Errorf("%s: the plan must not contain %q:\n%s", name, bad, plan)
			}
		}
	}
	for _, s := range stmts {
		plan := explain("EXPLAIN "+s.sql, s.args...)
		check(s.name, plan)
		// A technician's listings walk their visibility rows; the access
		// check of a history page looks up one row by its key instead.
		if strings.HasPrefix(s.name, "technician") && !strings.Contains(s.name, "history") &&
			!strings.Contains(plan, "staff_thread_visibility_inbox") {
			t.Errorf("%s: a technician's threads are found by a walk of their visibility rows:\n%s", s.name, plan)
		}
	}
	if _, err := conn.ExecContext(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
		t.Fatal(err)
	}
	for i, s := range stmts {
		name := fmt.Sprintf("p%d", i)
		if _, err := conn.ExecContext(ctx, "PREPARE "+name+" AS "+store.Numbered(s.sql)); err != nil {
			t.Fatalf("%s: prepare: %v", s.name, err)
		}
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(s.args)), ", ")
		check(s.name+" (generic plan)", explain("EXPLAIN EXECUTE "+name+"("+marks+")", s.args...))
	}
}

// A known customer's message into a live thread is one round trip on
// PostgreSQL once the connection has its statements, and two on a
// connection that has none yet (one to prepare both statements of the
// pipeline, one to run it): the round trip is most of what an inbound
// message costs. The round trips are counted by the pgx tracer on the
// store's connections, so a prepare, a BEGIN or a second statement would
// all show.
func TestPostgresInboundIsOneRoundTrip(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	ctx := context.Background()
	setup, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Close()
	if err := setup.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const tenant, number, from = "t1", "+15550001111", "+15550002222"
	if err := setup.PutNumber(ctx, conversations.BusinessNumber{Tenant: tenant, Number: number, Channel: conversations.ChannelSMS}); err != nil {
		t.Fatal(err)
	}
	file := func(db *store.DB, body string) (conversations.Message, bool) {
		t.Helper()
		th := conversations.Thread{Tenant: tenant, Kind: conversations.ThreadCustomer, BusinessNumber: number,
			Contact: conversations.Contact{Phone: from}}
		m := conversations.Message{
			Tenant: tenant, Kind: conversations.KindCustomerSMS, Direction: conversations.DirectionInbound,
			Channel: conversations.ChannelSMS, AuthorType: conversations.AuthorCustomer, Body: body,
			Source: conversations.SourceProvider, From: from, To: number, Status: conversations.StatusReceived,
			ProviderID: "SM" + body,
		}
		_, got, created, err := db.AppendInbound(ctx, th, m)
		if err != nil {
			t.Fatal(err)
		}
		return got, created
	}
	file(setup, "first") // first contact: creates the thread the general way

	// A store of its own, on one connection: Open connected it and prepared nothing.
	db, err := store.Open(ctx, dsn, store.WithMaxOpenConns(1))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, want := range []struct {
		name       string
		roundTrips int64
	}{{"a cold connection", 2}, {"a warm connection", 1}, {"a warm connection, again", 1}} {
		before := store.RoundTrips(db)
		got, created := file(db, fmt.Sprint("message ", i))
		if !created || got.Seq != int64(i+2) {
			t.Fatalf("AppendInbound on %s: got seq %d created=%v, want %d true", want.name, got.Seq, created, i+2)
		}
		if n := store.RoundTrips(db) - before; n != want.roundTrips {
			t.Errorf("AppendInbound for a known customer on %s: %d round trips, want %d", want.name, n, want.roundTrips)
		}
	}
	// The count is real: the general path (a new customer) takes many.
	before := store.RoundTrips(db)
	th := conversations.Thread{Tenant: tenant, Kind: conversations.ThreadCustomer, BusinessNumber: number,
		Contact: conversations.Contact{Phone: "+15550003333"}}
	m := conversations.Message{Tenant: tenant, Kind: conversations.KindCustomerSMS, Direction: conversations.DirectionInbound,
		Channel: conversations.ChannelSMS, AuthorType: conversations.AuthorCustomer, Body: "new", Source: conversations.SourceProvider,
		From: "+15550003333", To: number, Status: conversations.StatusReceived, ProviderID: "SMnew"}
	if _, _, _, err := db.AppendInbound(ctx, th, m); err != nil {
		t.Fatal(err)
	}
	if n := store.RoundTrips(db) - before; n < 5 {
		t.Errorf("AppendInbound for a new customer: %d round trips counted; the general path (BEGIN, look-ups, inserts, COMMIT) takes more than 4", n)
	}
}

// handlerFunc is a slog.Handler at debug level that hands each record to fn.
type handlerFunc func(slog.Record)

func (h handlerFunc) Enabled(context.Context, slog.Level) bool      { return true }
func (h handlerFunc) Handle(_ context.Context, r slog.Record) error { h(r); return nil }
func (h handlerFunc) WithAttrs([]slog.Attr) slog.Handler            { return h }
func (h handlerFunc) WithGroup(string) slog.Handler                 { return h }

// A pipeline whose prepared statements the server no longer has (dropped
// under it) is retried once, preparing them afresh on the same connection:
// the caller sees no error.
func TestPostgresPipelineRecoversDroppedStatements(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, store.WithMaxOpenConns(1)) // one connection: the same one throughout
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	scopes := []conversations.Scope{
		{Tenant: "t1", Staff: "s1", AllCustomer: true, Participant: true},
		{Tenant: "t1", Staff: "s2", Participant: true, Assigned: true},
	}
	if _, err := db.Badges(ctx, scopes); err != nil {
		t.Fatalf("Badges: %v", err)
	}
	if _, err := db.SQL().ExecContext(ctx, "DEALLOCATE ALL"); err != nil {
		t.Fatal(err)
	}
	got, err := db.Badges(ctx, scopes)
	if err != nil {
		t.Fatalf("Badges after the server dropped its statements: %v (the pipeline is retried once, prepared afresh)", err)
	}
	if len(got) != 2 || got[0] != 0 || got[1] != 0 {
		t.Errorf("Badges: got %v, want [0 0]", got)
	}
}
