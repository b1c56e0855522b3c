package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fieldtalk/fieldtalk/channel/twilio"
	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store/outbox"
)

// measureDelivery queues deliverN SMS through Service.SendSMS (dispatchers
// texting existing customers), then starts the outbox and times delivery to
// a fake Twilio on loopback until it has them all (the approach of
// store/outbox's BenchmarkDeliveryThroughput, on the seeded database). The
// baseline queues as many messages in a hand-written queue table and
// delivers them with as many workers, each looping: lock the oldest job
// (FOR UPDATE SKIP LOCKED), POST it, mark the message sent, delete the job,
// commit.
func (e *env) measureDelivery(ctx context.Context, log io.Writer) (row, error) {
	n, workers := e.cfg.deliverN, e.cfg.workers
	targets, err := e.targets(ctx, 5000)
	if err != nil {
		return row{}, err
	}
	dispatchers := map[string][]conversations.Viewer{}
	for _, v := range e.dispatchers {
		dispatchers[string(v.Tenant)] = append(dispatchers[string(v.Tenant)], v.Viewer)
	}
	var mine []target
	for _, t := range targets {
		if len(dispatchers[t.tenant]) > 0 {
			mine = append(mine, t)
		}
	}
	if len(mine) == 0 {
		return row{}, errors.New("delivery: no customer thread of a sampled dispatcher's business")
	}

	fake := twiliotest.NewServer(nil)
	defer fake.Close()
	ch, err := twilio.New(twilio.Config{AccountSID: fake.AccountSID(), AuthToken: fake.AuthToken(), Timeout: 10 * time.Second},
		twilio.WithBaseURL(fake.URL()))
	if err != nil {
		return row{}, err
	}
	ob, err := outbox.New(ctx, e.db, outbox.WithPollInterval(20*time.Millisecond), outbox.WithWorkers(workers))
	if err != nil {
		return row{}, err
	}
	if err := ob.Migrate(ctx); err != nil {
		return row{}, err
	}
	// A run interrupted earlier may have left jobs: they are not this run's.
	if _, err := e.base.Exec(ctx, "DELETE FROM river_job WHERE queue = $1 AND state <> 'completed'", outbox.Queue); err != nil {
		return row{}, fmt.Errorf("delivery: clear the queue: %w", err)
	}
	svc, err := conversations.NewService(conversations.Config{Store: ob.Store(), Policy: policy.Default(), Channels: []conversations.Channel{ch}})
	if err != nil {
		return row{}, err
	}
	r := rand.New(rand.NewPCG(11, 13))
	for i := range n {
		t := mine[r.IntN(len(mine))]
		ds := dispatchers[t.tenant]
		if _, err := svc.SendSMS(ctx, ds[r.IntN(len(ds))], conversations.SendSMS{Thread: conversations.ThreadID(t.thread),
			Body: fmt.Sprintf("Your technician is on the way (%d).", i)}); err != nil {
			return row{}, fmt.Errorf("delivery: send: %w", err)
		}
	}
	start := time.Now()
	if err := ob.Start(ctx, svc); err != nil {
		return row{}, err
	}
	for fake.Requests() < n {
		if ctx.Err() != nil {
			return row{}, ctx.Err()
		}
		time.Sleep(2 * time.Millisecond)
	}
	elapsed := time.Since(start)
	stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ob.Stop(stop); err != nil {
		return row{}, err
	}
	if got := len(fake.Creates()); got < n {
		return row{}, fmt.Errorf("delivery: the fake Twilio created %d messages of %d", got, n)
	}
	ftRate := float64(n) / elapsed.Seconds()

	baseRate, err := e.handQueue(ctx, mine, n, workers)
	if err != nil {
		return row{}, fmt.Errorf("delivery baseline: %w", err)
	}
	rw := row{op: fmt.Sprintf("delivery throughput, %d workers", workers), throughput: true, ftRate: ftRate, baseRate: baseRate,
		baseName: "hand-written SKIP LOCKED queue", note: fmt.Sprintf("%d messages queued, then delivered to a fake Twilio on loopback", n)}
	fmt.Fprintf(log, "bench: %s\n", rw.text())
	return rw, nil
}

// handQueue is the baseline delivery: a queue table of message keys, and
// workers that each take the oldest unlocked job, send it and mark the
// message sent in one transaction.
func (e *env) handQueue(ctx context.Context, targets []target, n, workers int) (float64, error) {
	setup := []string{
		`CREATE TABLE IF NOT EXISTS bench_delivery_queue (
  id        bigserial PRIMARY KEY,
  tenant_id text COLLATE "C" NOT NULL,
  thread_id text COLLATE "C" NOT NULL,
  seq       bigint NOT NULL)`,
		`TRUNCATE bench_delivery_queue`,
	}
	for _, q := range setup {
		if _, err := e.base.Exec(ctx, q); err != nil {
			return 0, err
		}
	}
	// Queue n messages as the Service would have stored them (queued), on
	// seqs far above any real one; they are deleted afterwards.
	const seqBase = 2_000_000_000_000
	defer func() {
		_, _ = e.base.Exec(context.Background(), "DELETE FROM messages WHERE seq >= $1", seqBase)
	}()
	r := rand.New(rand.NewPCG(17, 19))
	batch := &pgx.Batch{}
	for i := range n {
		t := targets[r.IntN(len(targets))]
		seq := int64(seqBase + i)
		batch.Queue(`INSERT INTO messages (tenant_id, thread_id, seq, id, kind, direction, channel, author_type, body,
  source, from_address, to_address, created_at, status)
VALUES ($1, $2, $3, $4, 'customer_sms', 'outbound', 'sms', 'staff', $5, 'mobile', $6, $7, now(), 'queued')`,
			t.tenant, t.thread, seq, conversations.NewID[conversations.MessageID](), fmt.Sprintf("Your technician is on the way (%d).", i), t.number, t.phone)
		batch.Queue(`INSERT INTO bench_delivery_queue (tenant_id, thread_id, seq) VALUES ($1, $2, $3)`, t.tenant, t.thread, seq)
	}
	if err := e.base.SendBatch(ctx, batch).Close(); err != nil {
		return 0, err
	}
	if _, err := e.base.Exec(ctx, "ANALYZE bench_delivery_queue"); err != nil {
		return 0, err
	}

	fake := twiliotest.NewServer(nil)
	defer fake.Close()
	pool, err := e.pool(ctx, workers)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * workers, MaxIdleConnsPerHost: 2 * workers}, Timeout: 10 * time.Second}
	work := func(ctx context.Context) (bool, error) {
		tx, err := pool.Begin(ctx)
		if err != nil {
			return false, err
		}
		defer tx.Rollback(ctx)
		var (
			id                           int64
			tenant, thread, from, to, bd string
			seq                          int64
		)
		err = tx.QueryRow(ctx, `SELECT q.id, q.tenant_id, q.thread_id, q.seq, m.from_address, m.to_address, m.body
FROM bench_delivery_queue q
JOIN messages m ON m.tenant_id = q.tenant_id AND m.thread_id = q.thread_id AND m.seq = q.seq
ORDER BY q.id LIMIT 1
FOR UPDATE OF q SKIP LOCKED`).Scan(&id, &tenant, &thread, &seq, &from, &to, &bd)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		sid, err := fake.Post(ctx, client, from, to, bd)
		if err != nil {
			return false, err
		}
		if _, err := tx.Exec(ctx, `UPDATE messages SET status = 'sent', sent_at = now(), provider_id = $4
WHERE tenant_id = $1 AND thread_id = $2 AND seq = $3`, tenant, thread, seq, sid); err != nil {
			return false, err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM bench_delivery_queue WHERE id = $1`, id); err != nil {
			return false, err
		}
		return true, tx.Commit(ctx)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				more, err := work(ctx)
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
				if !more {
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if first != nil {
		return 0, first
	}
	if got := len(fake.Creates()); got != n {
		return 0, fmt.Errorf("the fake Twilio created %d messages of %d", got, n)
	}
	return float64(n) / elapsed.Seconds(), nil
}
