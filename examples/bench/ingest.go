package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fieldtalk/fieldtalk/channel/twilio"
	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/notify/inapp"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store/outbox"
)

// publicURL is where "Twilio" believes the webhooks live; requests go to
// the loopback server, signed for this URL (twiliotest.WebhookClient.Target).
const publicURL = "https://bench.fieldtalk.example"

// target is an existing, non-archived customer thread an inbound message goes to.
type target struct {
	tenant, thread, phone, number string
}

// stamps is a Notifier that records when the Service first notifies anyone
// of each inbound message (keyed by provider id), counts notifications, and
// hands each to next (the in-app Hub).
type stamps struct {
	next  conversations.Notifier
	mu    sync.Mutex
	track bool
	first map[string]time.Time
	done  map[string]time.Time // when next returned (the Hub has logged it)
	count atomic.Int64
}

func (s *stamps) Notify(ctx context.Context, n conversations.Notification) error {
	return s.NotifyBatch(ctx, []conversations.Notification{n})
}

// NotifyBatch stamps each of ns and hands them on together, as the Service
// hands a fan-out's notifications to the Hub (one log write).
func (s *stamps) NotifyBatch(ctx context.Context, ns []conversations.Notification) error {
	s.count.Add(int64(len(ns)))
	s.stamp(false, ns, time.Now())
	if s.next == nil {
		return nil
	}
	err := conversations.NotifyBatch(ctx, s.next, ns)
	s.stamp(true, ns, time.Now())
	return err
}

// stamp records at, as the first call (or, logged, the first return) for
// each message of ns (by provider id) that has no time yet, when tracking.
func (s *stamps) stamp(logged bool, ns []conversations.Notification, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.track {
		return
	}
	times := s.times(logged)
	for _, n := range ns {
		if n.Message == nil {
			continue
		}
		if _, ok := times[n.Message.ProviderID]; !ok {
			times[n.Message.ProviderID] = at
		}
	}
}

func (s *stamps) reset(track bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.track, s.first, s.done = track, map[string]time.Time{}, map[string]time.Time{}
	s.count.Store(0)
}

func (s *stamps) at(sid string) (time.Time, bool) { return s.lookup(false, sid) }

// logged is when the Notifier behind s returned from the batch that first
// carried sid.
func (s *stamps) logged(sid string) (time.Time, bool) { return s.lookup(true, sid) }

func (s *stamps) lookup(logged bool, sid string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.times(logged)[sid]
	return t, ok
}

// times is first, or done when logged; s.mu is held.
func (s *stamps) times(logged bool) map[string]time.Time {
	if logged {
		return s.done
	}
	return s.first
}

// webhooks serves the Inbound handler twice over loopback HTTP: for a
// Service with the stamping Notifier in front of the in-app Hub
// (/notify/...), its fan-out owed with each message and done by the
// Service's loop, a running Outbox sweeping, as in production, and for one
// without a Notifier (/plain/...).
type webhooks struct {
	srv    *httptest.Server
	client *twiliotest.WebhookClient
	stamps *stamps
	stop   func()
}

func (e *env) webhooks() (*webhooks, error) {
	st := &stamps{}
	st.reset(false)
	withNotify, stop, err := e.notifyingService(st, nil)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	for path, svc := range map[string]*conversations.Service{"/notify/inbound": withNotify, "/plain/inbound": e.svc} {
		wh, err := twilio.NewWebhooks(twilio.Config{AuthToken: twiliotest.AuthToken, PublicURL: publicURL}, svc)
		if err != nil {
			return nil, err
		}
		mux.Handle(path, wh.Inbound())
	}
	srv := httptest.NewServer(mux)
	transport := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64}
	return &webhooks{
		srv:    srv,
		stamps: st,
		stop:   stop,
		client: &twiliotest.WebhookClient{Signer: twiliotest.Signer{AuthToken: twiliotest.AuthToken}, Target: srv.URL,
			HTTP: &http.Client{Transport: transport, Timeout: 30 * time.Second}},
	}, nil
}

func (w *webhooks) close() {
	w.srv.Close()
	w.client.HTTP.CloseIdleConnections()
	w.stop()
}

// notifyingService is a Service whose Notifier is st in front of an in-app
// Hub (hub, or a new one), with a started Outbox (which sweeps the fan-outs
// a crash leaves owed), as the example server has them. stop ends both.
func (e *env) notifyingService(st *stamps, hub *inapp.Hub) (*conversations.Service, func(), error) {
	ctx := context.Background()
	closeHub := func() {}
	if hub == nil {
		h, err := inapp.New(inapp.Config{Log: e.db, Authenticate: benchAuth})
		if err != nil {
			return nil, nil, err
		}
		hub, closeHub = h, func() { _ = h.Close() }
	}
	st.next = hub
	// No status sweep: at start it reads every business's outbound
	// messages of the last 72 hours (store.DB.UnfinishedOutbound), once an
	// hour after that, and on a dataset the benchmark keeps adding to, that
	// would land inside the few seconds measured; it has nothing to do with
	// notifications.
	ob, err := outbox.New(ctx, e.db, outbox.WithPollInterval(20*time.Millisecond), outbox.WithStatusSweep(-1, time.Hour))
	if err != nil {
		closeHub()
		return nil, nil, err
	}
	if err := ob.Migrate(ctx); err != nil {
		closeHub()
		return nil, nil, err
	}
	svc, err := conversations.NewService(conversations.Config{Store: ob.Store(), Policy: policy.Default(), Notifier: st})
	if err != nil {
		closeHub()
		return nil, nil, err
	}
	if err := ob.Start(ctx, svc); err != nil {
		closeHub()
		return nil, nil, err
	}
	return svc, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = ob.Stop(ctx)
		closeHub()
	}, nil
}

// post sends one signed inbound SMS to path and returns its MessageSid.
func (w *webhooks) post(ctx context.Context, path string, t target, body string) (string, error) {
	sid := twiliotest.NewSID("SM")
	form := twiliotest.Inbound{MessageSID: sid, From: t.phone, To: t.number, Body: body}.Form()
	resp, err := w.client.Post(ctx, publicURL+path, form, "")
	if err != nil {
		return "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("webhook answered %s", resp.Status)
	}
	return sid, nil
}

// targets draws n random existing, non-archived customer threads.
func (e *env) targets(ctx context.Context, n int) ([]target, error) {
	rows, err := e.base.Query(ctx, `SELECT tenant_id, id, contact_phone, business_number FROM threads
WHERE kind = 'customer' AND NOT archived ORDER BY md5(id) LIMIT $1`, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []target
	for rows.Next() {
		var t target
		if err := rows.Scan(&t.tenant, &t.thread, &t.phone, &t.number); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if len(out) == 0 && rows.Err() == nil {
		return nil, errors.New("no customer thread to send to")
	}
	return out, rows.Err()
}

var inboundBodies = []string{"On my way home now, the gate is open.", "Can you come tomorrow instead?",
	"Thanks!", "The leak is back under the sink, can someone take a look this week?", "Yes 3pm works."}

// throughput runs op on c workers for d and returns completed operations
// per second and each operation's latency.
func throughput(ctx context.Context, c int, d time.Duration, op func(ctx context.Context, worker int, r *rand.Rand) error) (float64, []time.Duration, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		lat   []time.Duration
		first error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	deadline := start.Add(d)
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			var mine []time.Duration
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := op(ctx, w, r); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					cancel()
					break
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if first != nil {
		return 0, nil, first
	}
	return float64(len(lat)) / elapsed.Seconds(), lat, nil
}

// The ceiling: one autocommitted single-row INSERT into messages (all its
// indexes and its foreign key), on existing threads, with seqs far above
// any real one; the rows are deleted afterwards.
const rawInsert = `INSERT INTO messages (tenant_id, thread_id, seq, id, kind, direction, channel, author_type,
  body, source, from_address, to_address, created_at, status, provider_id)
VALUES ($1, $2, $3, $4, 'customer_sms', 'inbound', 'sms', 'customer', $5, 'provider', $6, $7, $8, 'received', $9)`

const rawSeqBase = 1_000_000_000_000

// The hand-written inbound ingest in one statement (the one-CTE shape that
// the measurements the schema was designed from found fastest, on
// fieldtalk's tables): route by (business number, customer),
// skip a duplicate provider id, bump the thread and its visibility rows,
// insert the message, move the dispatcher-badge counter (one row per
// business, the perf-anchor's shape: slot 0 of the store's spread counter).
const oneStatementIngest = `WITH t AS (
  UPDATE threads
     SET last_seq = last_seq + 1, last_message_at = greatest(last_message_at, $4), preview = left($5, 80)
   WHERE tenant_id = $1 AND business_number = $2 AND contact_address = $3 AND kind = 'customer'
     AND NOT EXISTS (SELECT 1 FROM messages m
                     WHERE m.tenant_id = $1 AND m.channel = 'sms' AND m.provider_id = $6 AND m.provider_id <> '')
  RETURNING id, last_seq, last_message_at, archived
), v AS (
  UPDATE staff_thread_visibility v SET last_message_at = t.last_message_at, last_seq = t.last_seq
  FROM t WHERE v.tenant_id = $1 AND v.thread_id = t.id
), c AS (
  UPDATE tenant_counters SET customer_seq_sum = customer_seq_sum + 1
   WHERE tenant_id = $1 AND slot = 0 AND EXISTS (SELECT 1 FROM t WHERE NOT t.archived)
)
INSERT INTO messages (tenant_id, thread_id, seq, id, kind, direction, channel, author_type, body, source,
  from_address, to_address, created_at, status, provider_id)
SELECT $1, t.id, t.last_seq, $7, 'customer_sms', 'inbound', 'sms', 'customer', $5, 'provider', $3, $2, $4, 'received', $6
FROM t
ON CONFLICT DO NOTHING
RETURNING seq`

func (e *env) measureIngest(ctx context.Context, log io.Writer) ([]row, error) {
	targets, err := e.targets(ctx, 20000)
	if err != nil {
		return nil, err
	}
	wh, err := e.webhooks()
	if err != nil {
		return nil, err
	}
	defer wh.close()
	var seq atomic.Int64
	seq.Store(rawSeqBase)
	defer func() {
		// The ceiling's rows are not messages anyone sent: take them out.
		if _, err := e.base.Exec(context.Background(), "DELETE FROM messages WHERE seq >= $1", rawSeqBase); err != nil {
			fmt.Fprintf(log, "bench: delete the ceiling's rows: %v\n", err)
		}
	}()
	pick := func(r *rand.Rand) target { return targets[r.IntN(len(targets))] }
	body := func(r *rand.Rand) string { return inboundBodies[r.IntN(len(inboundBodies))] }

	var out []row
	for _, c := range e.cfg.concurrent {
		pool, err := e.pool(ctx, c)
		if err != nil {
			return nil, err
		}
		raw, _, err := throughput(ctx, c, e.cfg.ingestFor, func(ctx context.Context, _ int, r *rand.Rand) error {
			t := pick(r)
			now := time.Now()
			_, err := pool.Exec(ctx, rawInsert, t.tenant, t.thread, seq.Add(1), conversations.NewID[conversations.MessageID](),
				body(r), t.phone, t.number, now, twiliotest.NewSID("SM"))
			return err
		})
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("raw insert: %w", err)
		}
		one, _, err := throughput(ctx, c, e.cfg.ingestFor, func(ctx context.Context, _ int, r *rand.Rand) error {
			return e.ingestOne(ctx, pool, pick(r), body(r))
		})
		pool.Close()
		if err != nil {
			return nil, fmt.Errorf("one-statement ingest: %w", err)
		}
		wh.stamps.reset(false)
		notified, _, err := throughput(ctx, c, e.cfg.ingestFor, func(ctx context.Context, _ int, r *rand.Rand) error {
			_, err := wh.post(ctx, "/notify/inbound", pick(r), body(r))
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("webhook ingest: %w", err)
		}
		perMessage := float64(wh.stamps.count.Load()) / (notified * e.cfg.ingestFor.Seconds())
		drain, err := e.drainNotify(ctx)
		if err != nil {
			return nil, err
		}
		plain, _, err := throughput(ctx, c, e.cfg.ingestFor, func(ctx context.Context, _ int, r *rand.Rand) error {
			_, err := wh.post(ctx, "/plain/inbound", pick(r), body(r))
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("webhook ingest: %w", err)
		}
		for _, rw := range []row{
			{op: fmt.Sprintf("inbound webhook ingest, concurrency %d, Notifier attached", c), throughput: true,
				ftRate: notified, baseRate: raw, baseName: "raw single-row INSERT",
				note: fmt.Sprintf("in-app Hub, fan-out by the Service's loop (every owed fan-out done %s after the run); %.1f notifications per message within the run; one-statement hand-written ingest %s", drain.Round(10*time.Millisecond), perMessage, rate(one))},
			{op: fmt.Sprintf("inbound webhook ingest, concurrency %d, no Notifier", c), throughput: true,
				ftRate: plain, baseRate: raw, baseName: "raw single-row INSERT",
				note: fmt.Sprintf("%.2f× of the one-statement hand-written ingest (%s)", plain/one, rate(one))},
		} {
			fmt.Fprintf(log, "bench: %s\n", rw.text())
			out = append(out, rw)
		}
	}
	return out, nil
}

// drainNotify waits until every fan-out owed is done (the Service's
// fan-out loop clears each message's mark, fanout_owed; a Store without
// marks would leave Outbox jobs) and returns how long that took, so that
// the next measurement runs alone.
func (e *env) drainNotify(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	for {
		var n int64
		if err := e.base.QueryRow(ctx, `SELECT (SELECT count(*) FROM river_job WHERE queue = $1 AND kind <> 'fieldtalk_fanout_sweep'
  AND state IN ('available', 'running', 'retryable', 'scheduled')) + (SELECT count(*) FROM fanout_owed)`,
			outbox.NotifyQueue).Scan(&n); err != nil {
			return 0, err
		}
		if n == 0 {
			return time.Since(start), nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) ingestOne(ctx context.Context, pool *pgxpool.Pool, t target, body string) error {
	var seq int64
	return pool.QueryRow(ctx, oneStatementIngest, t.tenant, t.number, t.phone, time.Now(), body,
		twiliotest.NewSID("SM"), conversations.NewID[conversations.MessageID]()).Scan(&seq)
}

// measureLatency posts webhooks one at a time and takes, for each, the time
// from the POST to the Service's first Notifier call for it. The baseline
// is the hand-written one-statement ingest's round trip, alone: the floor of
// filing a message before anyone can be told.
func (e *env) measureLatency(ctx context.Context, log io.Writer) (row, error) {
	targets, err := e.targets(ctx, 5000)
	if err != nil {
		return row{}, err
	}
	wh, err := e.webhooks()
	if err != nil {
		return row{}, err
	}
	defer wh.close()
	pool, err := e.pool(ctx, 1)
	if err != nil {
		return row{}, err
	}
	defer pool.Close()
	r := rand.New(rand.NewPCG(3, 5))
	wh.stamps.reset(true)
	var ft, base, responses []time.Duration
	type post struct {
		sid string
		at  time.Time
	}
	var posted []post
	missing := 0
	for i := range e.cfg.latencyN + 50 {
		t := targets[r.IntN(len(targets))]
		b := inboundBodies[r.IntN(len(inboundBodies))]
		t0 := time.Now()
		sid, err := wh.post(ctx, "/notify/inbound", t, b)
		if err != nil {
			return row{}, err
		}
		done := time.Since(t0)
		t1 := time.Now()
		if err := e.ingestOne(ctx, pool, targets[r.IntN(len(targets))], b); err != nil {
			return row{}, err
		}
		one := time.Since(t1)
		if i < 50 {
			continue // warm-up
		}
		posted = append(posted, post{sid, t0})
		responses = append(responses, done)
		base = append(base, one)
	}
	// The fan-out runs after the webhook answered: wait for the last ones.
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range posted {
		for {
			if at, ok := wh.stamps.at(p.sid); ok {
				ft = append(ft, at.Sub(p.at))
				break
			}
			if time.Now().After(deadline) {
				missing++
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	rw := latencyRow("webhook to first Notifier call, concurrency 1", ft, base)
	rw.baseName = "one-statement hand-written ingest round trip (no HTTP, no notification)"
	rw.note = fmt.Sprintf("%d webhooks; webhook response p50 %s; measured to the Notifier call, in process (the next row: to an SSE stream)",
		len(ft), ms(percentile(responses, 50)))
	if missing > 0 {
		rw.note += "; " + strconv.Itoa(missing) + " messages notified no one"
	}
	fmt.Fprintf(log, "bench: %s\n", rw.text())
	return rw, nil
}
