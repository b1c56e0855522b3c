package outbox_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
	"github.com/fieldtalk/fieldtalk/store/outbox"
)

// BenchmarkDeliveryThroughput measures delivery from the queue to the fake
// Twilio on loopback and reports msgs/s:
//
//   - queued: b.N messages are queued first, then the workers start and the
//     clock runs until the provider has them all;
//
//   - concurrent: the workers run while b.N messages are accepted (SendSMS,
//     4 senders), the clock from the first accept to the last delivery (so
//     bound by whichever of accepting and delivering is slower);
//
//   - prefilled+accepting (PostgreSQL): b.N messages are queued first, then the workers
//     start while 4 senders keep accepting (SendSMS); the clock runs until
//     the first b.N deliveries are made, and msgs/s counts every delivery
//     in that time, accepted/s every accept;
//
//   - skiplocked (PostgreSQL): the hand-written baseline in the same run:
//     b.N rows in a queue table, 20 workers each looping over one
//     transaction (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1, POST to the same
//     fake, UPDATE the message, DELETE the job, COMMIT).
//
//     go test -run '^$' -bench DeliveryThroughput -benchtime 10000x ./store/outbox/
func BenchmarkDeliveryThroughput(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		for _, mode := range []string{"queued", "prefilled+accepting", "concurrent"} {
			if kind == "sqlite" && mode == "prefilled+accepting" {
				// One writer at a time: the four senders hold the write lock
				// and the workers get next to none of it (4 deliveries a
				// second at 200 messages; at 2,000 a call failed).
				continue
			}
			b.Run(kind+"/"+mode, func(b *testing.B) { benchOutbox(b, kind, mode) })
		}
	}
	b.Run("postgres/skiplocked", benchSkipLocked)
}

func benchOutbox(b *testing.B, kind, mode string) {
	concurrent, accepting := mode == "concurrent", mode == "prefilled+accepting"
	var db *store.DB
	if kind == "sqlite" {
		db = testdb.SQLite(b)
	} else {
		db = testdb.Postgres(b)
	}
	ctx := context.Background()
	fake := twiliotest.NewServer(b)
	ob, err := outbox.New(ctx, db, outbox.WithPollInterval(20*time.Millisecond), outbox.WithWorkers(benchWorkers(kind)))
	must(b, err)
	must(b, ob.Migrate(ctx))
	svc, err := conversations.NewService(conversations.Config{
		Store: ob.Store(), Policy: policy.Default(), Channels: []conversations.Channel{newTwilio(b, fake)},
	})
	must(b, err)
	tenant := conversations.TenantID("bench")
	disp := conversations.Staff{Tenant: tenant, ID: "dana", Role: conversations.RoleDispatcher}
	must(b, svc.PutStaff(ctx, disp))
	must(b, svc.ProvisionNumber(ctx, conversations.BusinessNumber{Tenant: tenant, Number: "+15005550001", Default: true}))
	send := func(i int) {
		_, err := svc.SendSMS(ctx, disp.Viewer(), conversations.SendSMS{To: fmt.Sprintf("+1500777%04d", i%1000), Body: fmt.Sprintf("bench %d", i)})
		must(b, err)
	}
	if !concurrent {
		for i := range b.N {
			send(i)
		}
	} else {
		for i := range 1000 { // the threads exist: the timed accepts are replies
			send(i)
		}
		must(b, ob.Start(ctx, svc))
		for fake.Requests() < 1000 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	b.ResetTimer()
	start := time.Now()
	base := fake.Requests()
	var accepted atomic.Int64
	stopAccepting := make(chan struct{})
	var senders sync.WaitGroup
	if accepting {
		for w := range 4 {
			senders.Go(func() {
				for i := w; ; i += 4 {
					select {
					case <-stopAccepting:
						return
					default:
					}
					send(b.N + i)
					accepted.Add(1)
				}
			})
		}
	}
	if concurrent {
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := w; i < b.N; i += 4 {
					send(1000 + i)
				}
			})
		}
		wg.Wait()
	} else {
		must(b, ob.Start(ctx, svc))
	}
	for fake.Requests()-base < b.N { // Creates() copies every create: too slow to poll
		time.Sleep(2 * time.Millisecond)
	}
	elapsed := time.Since(start)
	delivered := fake.Requests() - base
	close(stopAccepting)
	b.StopTimer()
	b.ReportMetric(float64(delivered)/elapsed.Seconds(), "msgs/s")
	if accepting {
		b.ReportMetric(float64(accepted.Load())/elapsed.Seconds(), "accepted/s")
	}
	senders.Wait()
	stop, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	must(b, ob.Stop(stop))
}

func benchSkipLocked(b *testing.B) {
	db := testdb.Postgres(b)
	ctx := context.Background()
	q := db.SQL()
	for _, s := range []string{
		`CREATE TABLE bench_messages (id bigserial PRIMARY KEY, to_address text NOT NULL, body text NOT NULL,
  status text NOT NULL DEFAULT 'queued', provider_id text NOT NULL DEFAULT '', sent_at timestamptz)`,
		`CREATE TABLE bench_queue (id bigserial PRIMARY KEY, message_id bigint NOT NULL)`,
	} {
		_, err := q.ExecContext(ctx, s)
		must(b, err)
	}
	for i := range b.N {
		_, err := q.ExecContext(ctx, `WITH m AS (INSERT INTO bench_messages (to_address, body) VALUES ($1, $2) RETURNING id)
INSERT INTO bench_queue (message_id) SELECT id FROM m`, fmt.Sprintf("+1500777%04d", i%1000), fmt.Sprintf("bench %d", i))
		must(b, err)
	}
	fake := twiliotest.NewServer(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 40}, Timeout: 10 * time.Second}
	work := func() (bool, error) {
		tx, err := q.BeginTx(ctx, nil)
		if err != nil {
			return false, err
		}
		defer tx.Rollback()
		var job, msg int64
		var to, body string
		err = tx.QueryRowContext(ctx, `SELECT q.id, m.id, m.to_address, m.body FROM bench_queue q
JOIN bench_messages m ON m.id = q.message_id ORDER BY q.id LIMIT 1 FOR UPDATE OF q SKIP LOCKED`).Scan(&job, &msg, &to, &body)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		sid, err := fake.Post(ctx, client, "+15005550001", to, body)
		if err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE bench_messages SET status = 'sent', sent_at = now(), provider_id = $2 WHERE id = $1`, msg, sid); err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM bench_queue WHERE id = $1`, job); err != nil {
			return false, err
		}
		return true, tx.Commit()
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for {
				more, err := work()
				if err != nil {
					b.Error(err)
					return
				}
				if !more {
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if fake.Requests() != b.N {
		b.Fatalf("the fake Twilio got %d requests for %d jobs", fake.Requests(), b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func benchWorkers(kind string) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("BENCH_WORKERS"), &n); err == nil {
		return n
	}
	if kind == "sqlite" {
		return 4
	}
	return 20
}
