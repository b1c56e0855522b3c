package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
)

// readsFixture is one business seeded through the store API for the read
// benchmarks: 2,000 customer threads with a message each, a dispatcher who
// sees them all, a technician who sees about 330 through one job, and a
// thread of 120 messages for history.
type readsFixture struct {
	dispatcher, technician conversations.Viewer
	long                   conversations.ThreadID
}

func seedReads(b *testing.B, db *store.DB) readsFixture {
	b.Helper()
	ctx := context.Background()
	tenant := "bench-" + conversations.NewID[conversations.TenantID]()
	f := readsFixture{
		dispatcher: conversations.Viewer{Tenant: tenant, Staff: "dispatcher", Role: conversations.RoleDispatcher},
		technician: conversations.Viewer{Tenant: tenant, Staff: "technician", Role: conversations.RoleTechnician},
	}
	check := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	for _, v := range []conversations.Viewer{f.dispatcher, f.technician} {
		check(db.PutStaff(ctx, conversations.Staff{Tenant: tenant, ID: v.Staff, Role: v.Role, Name: string(v.Staff)}))
	}
	const job = conversations.JobID("job-1")
	check(db.Assign(ctx, tenant, job, f.technician.Staff))
	start := time.Date(2024, 6, 1, 8, 0, 0, 0, time.UTC)
	for i := range 2000 {
		th := conversations.Thread{
			ID: conversations.ThreadID(fmt.Sprintf("thread-%05d", i)), Tenant: tenant, Kind: conversations.ThreadCustomer,
			BusinessNumber: "+15550000000",
			Contact:        conversations.Contact{Phone: fmt.Sprintf("+1555200%04d", i), Name: "Customer"},
			CreatedAt:      start.Add(time.Duration(i) * time.Second),
		}
		if i%6 == 0 {
			th.Jobs = []conversations.JobID{job}
		}
		check(db.CreateThread(ctx, th))
		n := 1
		if i == 1998 {
			n, f.long = 120, th.ID
		}
		for k := range n {
			m := conversations.Message{
				ID: conversations.NewID[conversations.MessageID](), Tenant: tenant, Thread: th.ID,
				Kind: conversations.KindCustomerSMS, Direction: conversations.DirectionInbound,
				Channel: conversations.ChannelSMS, AuthorType: conversations.AuthorCustomer,
				Body: fmt.Sprintf("Hi, this is customer %d: can you come by on Tuesday? (%d)", i, k), Source: conversations.SourceProvider,
				From: th.Contact.Phone, To: th.BusinessNumber, Status: conversations.StatusReceived,
				CreatedAt:  th.CreatedAt.Add(time.Duration(k+1) * time.Millisecond),
				ProviderID: "SM" + string(conversations.NewID[conversations.MessageID]()),
			}
			_, _, err := db.AppendMessage(ctx, m)
			check(err)
		}
		if i%3 == 0 {
			for _, v := range []conversations.Viewer{f.dispatcher, f.technician} {
				_, err := db.MarkRead(ctx, tenant, v.Staff, th.ID, 1)
				check(err)
			}
		}
	}
	// Statistics, as a live database has them: the plans are then the
	// production ones, and the server's share of each call small and steady.
	_, err := db.SQL().ExecContext(ctx, "ANALYZE threads, messages, staff_thread_visibility, read_marks, tenant_counters, staff_read_counters")
	check(err)
	// The counters' dead versions gone, as autovacuum keeps them on a live
	// database (each message left one behind).
	_, err = db.SQL().ExecContext(ctx, "VACUUM tenant_counters, staff_read_counters")
	check(err)
	return f
}

// BenchmarkReads measures the hot listings on PostgreSQL: what the store
// adds to the server's time is the client side (driver, scanning, building
// statements), which is what these figures move with.
func BenchmarkReads(b *testing.B) {
	db := testdb.Postgres(b)
	f := seedReads(b, db)
	ctx := context.Background()
	rules := policy.Default()
	svc, err := conversations.NewService(conversations.Config{Store: db, Policy: rules})
	if err != nil {
		b.Fatal(err)
	}
	run := func(name string, fn func() error) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, v := range []conversations.Viewer{f.dispatcher, f.technician} {
		sc := rules.Scope(v)
		run("Inbox/"+string(v.Role), func() error {
			p, err := db.Inbox(ctx, sc, conversations.InboxQuery{Limit: 50})
			if err == nil && len(p.Threads) != 50 {
				err = fmt.Errorf("inbox: %d threads", len(p.Threads))
			}
			return err
		})
		run("Badge/"+string(v.Role), func() error {
			_, err := db.Badge(ctx, sc)
			return err
		})
	}
	// The dispatcher's badge sums the tenant's counter slots (migration
	// 0011; seeding through the store filled all of them): the same badge
	// with the counter collapsed into one row, as it was before the spread,
	// measures what summing the slots costs the read.
	var slots int
	if err := db.SQL().QueryRowContext(ctx, "SELECT count(*) FROM tenant_counters WHERE tenant_id = $1", f.dispatcher.Tenant).Scan(&slots); err != nil {
		b.Fatal(err)
	}
	if slots < 2 {
		b.Fatalf("the seeded counter has %d slots: the comparison needs several", slots)
	}
	if _, err := db.SQL().ExecContext(ctx, `WITH d AS (DELETE FROM tenant_counters WHERE tenant_id = $1 RETURNING customer_seq_sum)
INSERT INTO tenant_counters (tenant_id, slot, customer_seq_sum) SELECT $1, 0, sum(customer_seq_sum) FROM d`, f.dispatcher.Tenant); err != nil {
		b.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, "VACUUM tenant_counters"); err != nil {
		b.Fatal(err)
	}
	run("Badge/dispatcher/counter-in-one-row", func() error {
		_, err := db.Badge(ctx, rules.Scope(f.dispatcher))
		return err
	})
	// The same badges for people who mute ten threads and leave muted
	// threads out of their badge (the term that is inert above does work
	// here: a walk of their mutes, each probed for scope and unread).
	for _, v := range []conversations.Viewer{f.dispatcher, f.technician} {
		for i := range 10 {
			th := conversations.ThreadID(fmt.Sprintf("thread-%05d", i*6))
			if err := db.SetMuted(ctx, v.Tenant, v.Staff, th, true, time.Time{}); err != nil {
				b.Fatal(err)
			}
		}
		if err := db.PutPreferences(ctx, conversations.Preferences{Tenant: v.Tenant, Staff: v.Staff, ExcludeMutedFromBadge: true}); err != nil {
			b.Fatal(err)
		}
		sc := rules.Scope(v)
		run("BadgeExcludingMuted/"+string(v.Role), func() error {
			_, err := db.Badge(ctx, sc)
			return err
		})
	}
	run("History", func() error {
		p, err := db.History(ctx, f.technician.Tenant, f.long, conversations.HistoryQuery{Limit: 50})
		if err == nil && len(p.Messages) != 50 {
			err = fmt.Errorf("history: %d messages", len(p.Messages))
		}
		return err
	})
	run("VisibleHistory/technician", func() error {
		p, err := db.VisibleHistory(ctx, rules.Scope(f.technician), f.long, conversations.HistoryQuery{Limit: 50})
		if err == nil && len(p.Messages) != 50 {
			err = fmt.Errorf("history: %d messages", len(p.Messages))
		}
		return err
	})
	run("ServiceHistory/technician", func() error {
		p, err := svc.History(ctx, f.technician, f.long, conversations.HistoryQuery{Limit: 50})
		if err == nil && len(p.Messages) != 50 {
			err = fmt.Errorf("history: %d messages", len(p.Messages))
		}
		return err
	})
}
