package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
	"github.com/fieldtalk/fieldtalk/store/outbox"
)

// statement is one statement the store ran, with its arguments.
type statement struct {
	text string
	args []any
}

// tracer records the statements the store runs while an operation is on.
type tracer struct {
	mu    sync.Mutex
	op    string
	stmts map[string][]statement
	order []string
}

func (tr *tracer) record(query string, args []any) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.op == "" {
		return
	}
	tr.stmts[tr.op] = append(tr.stmts[tr.op], statement{text: query, args: append([]any(nil), args...)})
}

// during records what fn makes the store run, as operation op.
func (tr *tracer) during(t *testing.T, op string, fn func() error) {
	t.Helper()
	tr.mu.Lock()
	tr.op = op
	tr.order = append(tr.order, op)
	tr.mu.Unlock()
	err := fn()
	tr.mu.Lock()
	tr.op = ""
	tr.mu.Unlock()
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
}

// TestHotStatementsRouteToOneShard runs each request a technician's or a
// webhook's day is made of (inbox, badge, history, inbound, send, mark
// read, delivery) on a Citus cluster, records every statement the store
// runs for it, and EXPLAINs each: a statement on distributed tables must be
// one task (Citus's router: one shard, one worker), with no subplan. The
// statements that touch no distributed table run on the coordinator alone
// (the job queue's, advisory locks). -v prints the table docs/BENCHMARKS.md
// lists.
func TestHotStatementsRouteToOneShard(t *testing.T) {
	dsn := testdb.CitusDSN(t)
	ctx := context.Background()
	tr := &tracer{stmts: map[string][]statement{}}
	db, err := store.Open(ctx, dsn, store.WithTrace(tr.record))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Distribute(ctx); err != nil {
		t.Fatal(err)
	}
	ob, err := outbox.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := ob.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc, err := conversations.NewService(conversations.Config{Store: ob.Store(), Policy: policy.Default()})
	if err != nil {
		t.Fatal(err)
	}

	tenant := conversations.NewID[conversations.TenantID]()
	number := "+1500" + fmt.Sprint(time.Now().UnixNano()%10000000)
	disp := conversations.Staff{Tenant: tenant, ID: "dana", Name: "Dana", Role: conversations.RoleDispatcher}
	tech := conversations.Staff{Tenant: tenant, ID: "tom", Name: "Tom", Role: conversations.RoleTechnician}
	for _, st := range []conversations.Staff{disp, tech} {
		if err := svc.PutStaff(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.ProvisionNumber(ctx, conversations.BusinessNumber{Tenant: tenant, Number: number, Default: true}); err != nil {
		t.Fatal(err)
	}
	first, _, err := svc.Receive(ctx, conversations.InboundMessage{Channel: conversations.ChannelSMS, BusinessNumber: number,
		From: "+15005550100", Body: "Is the tech on the way?", ProviderID: "SM-first"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.LinkJob(ctx, disp.Viewer(), first.Thread, "job-1"); err != nil {
		t.Fatal(err)
	}
	if err := svc.Assign(ctx, tenant, "job-1", tech.ID); err != nil {
		t.Fatal(err)
	}

	var sent conversations.Message
	tr.during(t, "inbound", func() error {
		_, _, err := svc.Receive(ctx, conversations.InboundMessage{Channel: conversations.ChannelSMS, BusinessNumber: number,
			From: "+15005550100", Body: "Gate code is 4411", ProviderID: "SM-second"})
		return err
	})
	tr.during(t, "inbox (technician)", func() error {
		_, err := svc.Inbox(ctx, tech.Viewer(), conversations.InboxQuery{})
		return err
	})
	tr.during(t, "inbox (dispatcher)", func() error {
		_, err := svc.Inbox(ctx, disp.Viewer(), conversations.InboxQuery{})
		return err
	})
	tr.during(t, "badge (technician)", func() error {
		_, err := svc.Badge(ctx, tech.Viewer())
		return err
	})
	tr.during(t, "badge (dispatcher)", func() error {
		_, err := svc.Badge(ctx, disp.Viewer())
		return err
	})
	tr.during(t, "history (technician)", func() error {
		_, err := svc.History(ctx, tech.Viewer(), first.Thread, conversations.HistoryQuery{})
		return err
	})
	access, err := conversations.NewThreadAccess(db, policy.Default())
	if err != nil {
		t.Fatal(err)
	}
	tr.during(t, "stream visibility check (technician)", func() error {
		_, err := access.VisibleThreads(ctx, tenant, tech.ID, []conversations.ThreadID{first.Thread})
		return err
	})
	tr.during(t, "send", func() error {
		var err error
		sent, err = svc.SendSMS(ctx, tech.Viewer(), conversations.SendSMS{Thread: first.Thread, Body: "On my way", ClientID: "tom/1"})
		return err
	})
	tr.during(t, "delivery attempt's read", func() error {
		_, err := db.ReadForDelivery(ctx, tenant, sent.ID)
		return err
	})
	tr.during(t, "mark read", func() error {
		_, err := svc.MarkRead(ctx, tech.Viewer(), first.Thread, sent.Seq)
		return err
	})
	tr.during(t, "delivery", func() error {
		_, err := svc.ApplyStatus(ctx, conversations.StatusUpdate{Tenant: tenant, Message: sent.ID, Status: conversations.StatusDelivered})
		return err
	})

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	var table strings.Builder
	table.WriteString("| request | statement | tasks |\n|---|---|---|\n")
	for _, op := range tr.order {
		stmts := tr.stmts[op]
		if len(stmts) == 0 {
			t.Errorf("%s: no statement recorded", op)
		}
		for _, st := range stmts {
			verb, _, _ := strings.Cut(strings.TrimSpace(st.text), " ")
			switch strings.ToUpper(verb) {
			case "SELECT", "INSERT", "UPDATE", "DELETE", "WITH":
			default:
				continue // SAVEPOINT and its release: no plan
			}
			tasks, err := explainTasks(ctx, conn, st)
			if err != nil {
				t.Errorf("%s: %v\n%s", op, err, st.text)
				continue
			}
			where := fmt.Sprint(tasks)
			switch {
			case tasks == 0:
				where = "coordinator"
			case tasks != 1:
				t.Errorf("%s: a statement runs as %d tasks, not one shard's router query:\n%s", op, tasks, st.text)
			}
			fmt.Fprintf(&table, "| %s | `%s` | %s |\n", op, firstLine(st.text), where)
		}
	}
	t.Logf("statements by request:\n%s", table.String())
	if path := os.Getenv("FIELDTALK_ROUTING_TABLE"); path != "" {
		if err := os.WriteFile(path, []byte(table.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// explainTasks EXPLAINs st and returns its Citus task count: 0 for a
// statement Citus leaves to the coordinator (no distributed table). A plan
// with more than one Citus scan (subplans run one after the other, an
// INSERT ... SELECT through the coordinator) is an error, whatever their
// tasks.
func explainTasks(ctx context.Context, conn *pgx.Conn, st statement) (int, error) {
	var plan string
	if err := conn.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+st.text, st.args...).Scan(&plan); err != nil {
		return 0, err
	}
	var nodes any
	if err := json.Unmarshal([]byte(plan), &nodes); err != nil {
		return 0, err
	}
	tasks := 0
	var scans []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if p, ok := v["Custom Plan Provider"].(string); ok && strings.HasPrefix(p, "Citus") {
				scans = append(scans, p)
			}
			if n, ok := v["Task Count"].(float64); ok {
				tasks += int(n)
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(nodes)
	if len(scans) > 1 || len(scans) == 1 && scans[0] != "Citus Adaptive" {
		return 0, fmt.Errorf("planned as %d Citus scans %v, not one router query", len(scans), scans)
	}
	return tasks, nil
}

func firstLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 90 {
		s = s[:90] + "…"
	}
	return strings.ReplaceAll(s, "|", "\\|")
}

// TestDistributeNeedsCitus: on a PostgreSQL without the citus extension
// Distribute names the missing extension and changes nothing; on SQLite it
// is refused as invalid.
func TestDistributeNeedsCitus(t *testing.T) {
	ctx := context.Background()
	db := testdb.Postgres(t)
	tables := func() string {
		var s string
		if err := db.SQL().QueryRowContext(ctx, `SELECT string_agg(c.relname || ':' || c.relkind::text || ':' || c.relnatts, ',' ORDER BY c.relname)
FROM pg_class c WHERE c.relnamespace = to_regnamespace(current_schema())`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := tables()
	err := db.Distribute(ctx)
	if !errors.Is(err, conversations.ErrUnavailable) || !strings.Contains(err.Error(), "citus extension") {
		t.Fatalf("Distribute without Citus: %v, want ErrUnavailable naming the citus extension", err)
	}
	if after := tables(); after != before {
		t.Fatalf("a refused Distribute changed the schema:\nbefore %s\nafter  %s", before, after)
	}
	if err := db.PutStaff(ctx, conversations.Staff{Tenant: "t", ID: "s", Role: conversations.RoleAdmin}); err != nil {
		t.Fatalf("the store works on after a refused Distribute: %v", err)
	}
	if err := testdb.SQLite(t).Distribute(ctx); !errors.Is(err, conversations.ErrInvalid) {
		t.Fatalf("Distribute on SQLite: %v, want ErrInvalid", err)
	}
}

// TestDistributeIsIdempotent lays a schema out twice (as every start
// does): the second call changes nothing, and every table with a tenant
// is distributed and co-located, business_numbers a reference table, and
// the rest (the migrations' record, the job queue's tables) left on the
// coordinator.
func TestDistributeIsIdempotent(t *testing.T) {
	ctx := context.Background()
	db := testdb.Citus(t)
	ob, err := outbox.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := ob.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	layout := func() map[string]string {
		rows, err := db.SQL().QueryContext(ctx, `SELECT c.relname, coalesce(p.partmethod::text || ':' || p.colocationid, 'local'),
  EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id')
FROM pg_class c LEFT JOIN pg_dist_partition p ON p.logicalrelid = c.oid
WHERE c.relnamespace = to_regnamespace(current_schema()) AND c.relkind = 'r'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]string{}
		for rows.Next() {
			var name, how string
			var tenant bool
			if err := rows.Scan(&name, &how, &tenant); err != nil {
				t.Fatal(err)
			}
			if !tenant && how != "local" {
				t.Errorf("%s has no tenant_id but is laid out as %s", name, how)
			}
			out[name] = how
		}
		return out
	}
	first := layout()
	if err := db.Distribute(ctx); err != nil {
		t.Fatalf("a second Distribute: %v", err)
	}
	second := layout()
	if fmt.Sprint(first) != fmt.Sprint(second) {
		t.Fatalf("a second Distribute changed the layout:\n%v\n%v", first, second)
	}
	anchor := first["staff"]
	if !strings.HasPrefix(anchor, "h:") {
		t.Fatalf("staff is laid out as %q, want hash-distributed", anchor)
	}
	if !strings.HasPrefix(first["business_numbers"], "n:") {
		t.Errorf("business_numbers is laid out as %q, want a reference table", first["business_numbers"])
	}
	for _, name := range []string{"fieldtalk_migrations", "river_job"} {
		if first[name] != "local" {
			t.Errorf("%s is laid out as %q, want left on the coordinator", name, first[name])
		}
	}
	for _, name := range []string{"threads", "messages", "staff_thread_visibility", "read_marks", "tenant_counters", "notifications"} {
		if first[name] != anchor {
			t.Errorf("%s is laid out as %q, want co-located with staff (%s)", name, first[name], anchor)
		}
	}
}
