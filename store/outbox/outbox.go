package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/store"
)

// Queue is the River queue deliveries run on.
const Queue = "fieldtalk_outbound"

// NotifyQueue is the River queue a new message's fan-out
// (conversations.DeliverNotify) runs on, with workers of its own, so that
// notifications never wait behind deliveries held by a slow provider or a
// sender's pace.
const NotifyQueue = "fieldtalk_notify"

const defaultMaxAttempts = 14

// Deliverer makes one delivery attempt; *conversations.Worker (and so
// *conversations.Service) is one.
type Deliverer interface {
	Deliver(ctx context.Context, a conversations.DeliverAttempt) error
}

// Outbox is the durable outbound queue. It is safe for concurrent use.
type Outbox struct {
	db       *store.DB
	cfg      config
	client   *river.Client[*sql.Tx]
	driver   riverdriver.Driver[*sql.Tx]
	listener *pgxpool.Pool
	target   atomic.Pointer[deliverer]
	hints    sync.Map // River job id → the provider's retry-after hint
}

type deliverer struct{ Deliverer }

var _ conversations.Outbox = (*Outbox)(nil)

// Option configures New.
type Option func(*config)

type config struct {
	log          *slog.Logger
	maxAttempts  int
	workers      int
	backoffBase  time.Duration
	backoffMax   time.Duration
	jobTimeout   time.Duration
	rescueAfter  time.Duration
	pollInterval time.Duration
	sweepEvery   time.Duration // sweep.go
	sweepWindow  time.Duration
	sweepMinAge  time.Duration
	fanOutEvery  time.Duration // fanout.go
	fanOutAge    time.Duration

	tracerProvider trace.TracerProvider // telemetry.go
	meterProvider  metric.MeterProvider
}

// WithLogger sets the logger for the queue and River. The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

// WithMaxAttempts sets the retry budget: how many attempts a delivery gets
// before the message is marked failed. The default, 14, spreads its retries
// over 1 h 34 min to 3 h 8 min with the default backoff (the waits double from 2s
// to the 1h cap, each jittered between half and all of it), enough to ride
// out a provider outage of an hour or two.
func WithMaxAttempts(n int) Option { return func(c *config) { c.maxAttempts = n } }

// WithWorkers sets how many deliveries run at once in this process. The
// default is 20 on PostgreSQL and 4 on SQLite (one writer at a time).
func WithWorkers(n int) Option { return func(c *config) { c.workers = n } }

// WithBackoff sets the retry schedule: attempt n waits about base·2^(n-1),
// with full jitter, capped at max. The defaults are 2s and 1h.
func WithBackoff(base, max time.Duration) Option {
	return func(c *config) { c.backoffBase, c.backoffMax = base, max }
}

// WithJobTimeout bounds one delivery attempt (default 1m), and
// WithRescueAfter says when a job whose worker vanished (a crash) is
// retried (default 5m, at least the job timeout). ForChannelTimeout sets
// both from the channel's own deadline.
func WithJobTimeout(d time.Duration) Option { return func(c *config) { c.jobTimeout = d } }

// WithRescueAfter: see WithJobTimeout. River's rescuer looks for such jobs
// every 30 seconds, on the instance that leads (a new leader takes over 15
// seconds after the last one died), so a crashed delivery is retried within
// rescue-after + 30s (+ 15s when the leader crashed).
func WithRescueAfter(d time.Duration) Option { return func(c *config) { c.rescueAfter = d } }

// ForChannelTimeout derives the job timeout and the rescue delay from the
// longest a channel's provider call may take (twilio.Channel.Timeout): an
// attempt makes at most two calls (a lookup before a resend, then the send),
// so the job timeout is twice d, and a job still running a fifteenth of d
// after that lost its worker. For Twilio's 15 s: a 30 s job timeout and a
// 31 s rescue delay.
func ForChannelTimeout(d time.Duration) Option {
	return func(c *config) {
		c.jobTimeout = 2 * d
		c.rescueAfter = c.jobTimeout + d/15
	}
}

// WithPollInterval sets how often workers look for due jobs when no
// notification arrives (SQLite always polls). The default is 1s on
// PostgreSQL and 100ms on SQLite.
func WithPollInterval(d time.Duration) Option { return func(c *config) { c.pollInterval = d } }

// New returns an Outbox on db's database. It can enqueue at once; Start
// begins delivering. Call Migrate once (beside db.Migrate) before use.
func New(ctx context.Context, db *store.DB, opts ...Option) (*Outbox, error) {
	sqlite := db.Dialect() == store.DialectSQLite
	cfg := config{
		log: slog.New(slog.DiscardHandler), maxAttempts: defaultMaxAttempts, workers: 20,
		backoffBase: 2 * time.Second, backoffMax: time.Hour,
		jobTimeout: time.Minute, rescueAfter: 5 * time.Minute, pollInterval: time.Second,
		sweepEvery: time.Hour, sweepWindow: conversations.DefaultStatusCheckFor, sweepMinAge: 15 * time.Minute,
		fanOutEvery: 5 * time.Second, fanOutAge: 10 * time.Second,
	}
	if sqlite {
		cfg.workers, cfg.pollInterval = 4, 100*time.Millisecond
	}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case cfg.maxAttempts < 1:
		return nil, conversations.Invalid("outbox.max_attempts", "at least 1")
	case cfg.workers < 1:
		return nil, conversations.Invalid("outbox.workers", "at least 1")
	case cfg.backoffBase <= 0 || cfg.backoffMax < cfg.backoffBase:
		return nil, conversations.Invalid("outbox.backoff", "base must be positive and max at least base")
	case cfg.jobTimeout <= 0 || cfg.rescueAfter < cfg.jobTimeout:
		return nil, conversations.Invalid("outbox.rescue_after", "at least the job timeout")
	case cfg.pollInterval <= 0:
		return nil, conversations.Invalid("outbox.poll_interval", "must be positive")
	case cfg.sweepEvery == 0 || cfg.sweepWindow <= 0 || cfg.sweepMinAge < 0 || cfg.sweepMinAge >= cfg.sweepWindow:
		return nil, conversations.Invalid("outbox.status_sweep", "every must be non-zero (negative: off), the window positive and the minimum age from zero to less than the window")
	case cfg.fanOutEvery == 0 || cfg.fanOutAge < 0:
		return nil, conversations.Invalid("outbox.fanout_sweep", "every must be non-zero (negative: off) and the age not negative")
	}
	o := &Outbox{db: db, cfg: cfg}
	// Behind a transaction pooler (store.WithTransactionPooling) a LISTEN
	// would be lost with its transaction's server connection: River polls
	// (PollOnly) and needs no listener connection.
	pollOnly := db.TransactionPooling()
	switch {
	case sqlite:
		o.driver = riversqlite.New(db.SQL())
	case pollOnly:
		o.driver = riverdatabasesql.New(db.SQL())
	default:
		pool, err := listenerPool(ctx, db)
		if err != nil {
			return nil, err
		}
		o.listener = pool
		o.driver = riverdatabasesql.NewWithPgxListener(db.SQL(), pool)
	}
	workers := river.NewWorkers()
	if err := errors.Join(river.AddWorkerSafely(workers, &worker{o: o}), river.AddWorkerSafely(workers, &sweepWorker{o: o}), river.AddWorkerSafely(workers, &fanOutSweepWorker{o: o})); err != nil {
		o.closeListener()
		return nil, fmt.Errorf("outbox: %w", err)
	}
	client, err := river.NewClient(o.driver, &river.Config{
		Logger:               cfg.log,
		MaxAttempts:          cfg.maxAttempts,
		JobTimeout:           cfg.jobTimeout,
		RescueStuckJobsAfter: cfg.rescueAfter,
		FetchPollInterval:    cfg.pollInterval,
		PollOnly:             pollOnly,
		FetchCooldown:        min(cfg.pollInterval, 5*time.Millisecond),
		Queues:               map[string]river.QueueConfig{Queue: {MaxWorkers: cfg.workers}, NotifyQueue: {MaxWorkers: cfg.workers}},
		Workers:              workers,
		PeriodicJobs:         cfg.periodicJobs(),
		Middleware:           cfg.middleware(),
	})
	if err != nil {
		o.closeListener()
		return nil, fmt.Errorf("outbox: river: %w", err)
	}
	o.client = client
	if cfg.meterProvider != nil {
		if err := o.observeQueue(cfg.meterProvider); err != nil {
			o.closeListener()
			return nil, err
		}
	}
	return o, nil
}

// listenerPool opens the small pgx pool River listens for new jobs on.
func listenerPool(ctx context.Context, db *store.DB) (*pgxpool.Pool, error) {
	cc := db.ConnConfig()
	if cc == nil {
		return nil, errors.New("outbox: the store has no PostgreSQL connection config")
	}
	pc, err := pgxpool.ParseConfig("")
	if err != nil {
		return nil, fmt.Errorf("outbox: listener: %w", err)
	}
	pc.ConnConfig = cc
	pc.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("outbox: listener: %w: %w", conversations.ErrUnavailable, err)
	}
	return pool, nil
}

func (o *Outbox) closeListener() {
	if o.listener != nil {
		o.listener.Close()
	}
}

// Migrate creates or upgrades River's tables. It is idempotent.
func (o *Outbox) Migrate(ctx context.Context) error {
	m, err := rivermigrate.New(o.driver, &rivermigrate.Config{Logger: o.cfg.log})
	if err != nil {
		return fmt.Errorf("outbox: migrate: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("outbox: migrate: %w", err)
	}
	return nil
}

// Enqueue schedules d inside tx, the transaction that stored the message.
// A second enqueue of the same message is a no-op.
func (o *Outbox) Enqueue(ctx context.Context, tx conversations.Store, d conversations.Delivery) error {
	sqlTx, ok := store.SQLTx(tx)
	if !ok {
		return errors.New("outbox: enqueue: not inside a store transaction: the message and its job must commit together")
	}
	opts := &river.InsertOpts{Queue: Queue, UniqueOpts: river.UniqueOpts{ByArgs: true}, Priority: 1}
	if d.Automated {
		opts.Priority = 2 // River runs person-typed messages (1) first
	}
	if !d.NotBefore.IsZero() {
		opts.ScheduledAt = d.NotBefore
	}
	if d.Kind == conversations.DeliverNotify {
		// One fan-out per message: Receive enqueues it only when it
		// created the message, and a repeat would tell nobody twice
		// anyway; River's uniqueness check is work the webhook waits for.
		opts.Queue, opts.UniqueOpts = NotifyQueue, river.UniqueOpts{}
	}
	_, err := o.client.InsertTx(ctx, sqlTx, deliverArgs{What: string(d.Kind), Tenant: string(d.Tenant), Message: string(d.Message)}, opts)
	if err != nil {
		return fmt.Errorf("outbox: enqueue: %w", err)
	}
	return nil
}

// Store is the store.DB an Outbox was made on, carrying the Outbox: the
// conversations.QueueStore that the Service parts which queue work take.
// Its Tx and every other method are the DB's.
type Store struct {
	*store.DB
	o *Outbox
}

var _ conversations.QueueStore = (*Store)(nil)

// Store returns the DB the Outbox was made on, with the Outbox as its queue.
func (o *Outbox) Store() *Store { return &Store{DB: o.db, o: o} }

// Enqueue is the Outbox's Enqueue.
func (s *Store) Enqueue(ctx context.Context, tx conversations.Store, d conversations.Delivery) error {
	return s.o.Enqueue(ctx, tx, d)
}

// Start begins delivering through d (usually the *conversations.Service).
func (o *Outbox) Start(ctx context.Context, d Deliverer) error {
	if d == nil {
		return conversations.Invalid("deliverer", "nil")
	}
	o.target.Store(&deliverer{d})
	if err := o.client.Start(ctx); err != nil {
		return fmt.Errorf("outbox: start: %w", err)
	}
	return nil
}

// Stop waits for the Deliverer's fan-out loop to go idle
// (conversations.Worker.WaitFanOuts), stops taking new jobs and waits for
// running deliveries to finish (until ctx is done, when they are cancelled
// and retried later), then closes the listener.
func (o *Outbox) Stop(ctx context.Context) error {
	defer o.closeListener()
	if d := o.target.Load(); d != nil {
		// The Service's fan-out loop uses the store too: let it finish
		// what it began (what it did not stays owed for the sweep).
		if w, ok := d.Deliverer.(interface{ WaitFanOuts(context.Context) error }); ok {
			_ = w.WaitFanOuts(ctx)
		}
	}
	if err := o.client.Stop(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("outbox: stop: %w", err)
	}
	if ctx.Err() != nil {
		return o.client.StopAndCancel(context.WithoutCancel(ctx))
	}
	return nil
}

// backoff is attempt n's wait: full jitter over base·2^(n-1), capped.
func (o *Outbox) backoff(attempt int) time.Duration {
	d := o.cfg.backoffMax
	if attempt < 40 {
		d = min(o.cfg.backoffBase<<(attempt-1), o.cfg.backoffMax)
	}
	return d/2 + rand.N(d/2+1)
}

// deliverArgs is the River job: what to do, and the message's address.
// Check marks a job the status sweep added (sweep.go); the worker runs it
// as any other.
type deliverArgs struct {
	What    string `json:"what,omitempty"`
	Tenant  string `json:"tenant"`
	Message string `json:"message"`
	Check   bool   `json:"check,omitempty"`
}

func (deliverArgs) Kind() string { return "fieldtalk_deliver" }

type worker struct {
	river.WorkerDefaults[deliverArgs]
	o *Outbox
}

func (w *worker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	t := w.o.target.Load()
	if t == nil {
		return errors.New("outbox: started without a deliverer")
	}
	err := t.Deliver(ctx, conversations.DeliverAttempt{
		Kind:   conversations.DeliveryKind(job.Args.What),
		Tenant: conversations.TenantID(job.Args.Tenant), Message: conversations.MessageID(job.Args.Message),
		Attempt: job.Attempt, Final: job.Attempt >= job.MaxAttempts,
	})
	var later *conversations.Later
	if errors.As(err, &later) {
		// The provider has the message; its status is asked for then.
		// A snooze spends no attempt of the retry budget.
		return river.JobSnooze(max(later.After, 0))
	}
	var re *conversations.RetryError
	if errors.As(err, &re) && re.After > 0 {
		w.o.hints.Store(job.ID, re.After)
	}
	if errors.Is(err, conversations.ErrNotFound) || errors.Is(err, conversations.ErrInvalid) {
		// The message is gone or the job is malformed: no retry can help.
		return river.JobCancel(err)
	}
	return err
}

// NextRetry honours the provider's Retry-After when it is longer than the backoff.
func (w *worker) NextRetry(job *river.Job[deliverArgs]) time.Time {
	d := w.o.backoff(job.Attempt)
	if h, ok := w.o.hints.LoadAndDelete(job.ID); ok {
		d = max(d, h.(time.Duration))
	}
	return time.Now().Add(d)
}

func (w *worker) Timeout(*river.Job[deliverArgs]) time.Duration { return w.o.cfg.jobTimeout }
