package conversations

import (
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// The Service is split by caller. Four kinds of code call fieldtalk, and each
// gets a type that holds only its own methods and a constructor that takes
// only what those methods use:
//
//   - App: the signed-in staff member's app (inbox, threads, history,
//     drafts, reads, badge, sending, suggestions, internal threads).
//   - Sync: the host's CRM pushing its records in (staff, numbers, job
//     assignments, settings) and asking about opt-outs.
//   - Hooks: the outside world calling in without a person: provider
//     webhooks (Receive, ApplyStatus, NumberOwner) and the host's
//     automations (Escalate, SendWorkflow).
//   - Worker: the delivery queue's worker (Deliver).
//
// A host that wants everything builds one Service, which embeds the four
// parts over one shared core. The parts that queue work (App, Hooks) take a
// QueueStore, so a Store without an outbox does not compile into them.

// Service is the one-stop type: every part over one shared core. It is safe
// for concurrent use; all state lives in the Store.
type Service struct {
	*core
	*App
	*Sync
	*Hooks
	*Worker
}

// NewService returns a Service. A missing Store or Policy is ErrInvalid.
func NewService(cfg Config) (*Service, error) {
	c, err := newCore(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Timeline != nil && c.outbox == nil {
		return nil, Invalid("config.timeline", "a Timeline outside the store's database is fed through the Store's outbox: use a QueueStore (or StoreTimeline for the Store's own)")
	}
	return &Service{core: c, App: &App{c}, Sync: &Sync{c}, Hooks: &Hooks{c}, Worker: &Worker{c}}, nil
}

// Observe is what every part takes for its logs, spans and metrics. Zero
// values mean none, at no cost.
type Observe struct {
	// Clock returns the current time. Nil means time.Now.
	Clock func() time.Time
	// Logger receives the part's logs. Nil discards them.
	Logger         *slog.Logger
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
}

func (o Observe) into(cfg Config) Config {
	cfg.Clock, cfg.Logger, cfg.TracerProvider, cfg.MeterProvider = o.Clock, o.Logger, o.TracerProvider, o.MeterProvider
	return cfg
}

// App is the signed-in staff member's part: every method takes the Viewer
// it acts for and is checked by the Policy.
type App struct{ *core }

// AppConfig is what App uses; the fields mean what they mean in Config.
type AppConfig struct {
	Store          QueueStore // required
	Policy         Policy     // required
	Notifier       Notifier
	Jobs           Jobs
	Suggester      Suggester
	StoreTimeline  bool
	Timeline       Timeline
	AllowHTTPMedia bool
	Observe
}

// NewApp returns the App part alone.
func NewApp(cfg AppConfig) (*App, error) {
	c, err := newCore(cfg.Observe.into(Config{
		Store: cfg.Store, Policy: cfg.Policy, Notifier: cfg.Notifier, Jobs: cfg.Jobs, Suggester: cfg.Suggester,
		StoreTimeline: cfg.StoreTimeline, Timeline: cfg.Timeline, AllowHTTPMedia: cfg.AllowHTTPMedia,
	}))
	if err != nil {
		return nil, err
	}
	return &App{c}, nil
}

// Sync is the host CRM's part: it pushes staff, numbers, job assignments
// and settings in, and asks who opted out.
type Sync struct{ *core }

// SyncConfig is what Sync uses: an assignment change moves badges, so
// Sync tells the staff it affects (through Policy and Notifier).
type SyncConfig struct {
	Store    Store  // required
	Policy   Policy // required
	Notifier Notifier
	Observe
}

// NewSync returns the Sync part alone.
func NewSync(cfg SyncConfig) (*Sync, error) {
	c, err := newCore(cfg.Observe.into(Config{Store: cfg.Store, Policy: cfg.Policy, Notifier: cfg.Notifier}))
	if err != nil {
		return nil, err
	}
	return &Sync{c}, nil
}

// Hooks is the part for calls that come without a person: provider
// webhooks and the host's automations (the AI receptionist's escalations,
// workflow messages).
type Hooks struct{ *core }

// HooksConfig is what Hooks uses: no Suggester, no Jobs, no Channels (the
// Worker sends).
type HooksConfig struct {
	Store          QueueStore // required
	Policy         Policy     // required: who is told of a new message
	Notifier       Notifier
	StoreTimeline  bool
	Timeline       Timeline
	AllowHTTPMedia bool
	Observe
}

// NewHooks returns the Hooks part alone: what a webhook-only host runs.
func NewHooks(cfg HooksConfig) (*Hooks, error) {
	c, err := newCore(cfg.Observe.into(Config{
		Store: cfg.Store, Policy: cfg.Policy, Notifier: cfg.Notifier, StoreTimeline: cfg.StoreTimeline, Timeline: cfg.Timeline,
		AllowHTTPMedia: cfg.AllowHTTPMedia,
	}))
	if err != nil {
		return nil, err
	}
	return &Hooks{c}, nil
}

// Worker is the delivery queue's part: Deliver makes one attempt.
type Worker struct{ *core }

// WorkerConfig is what Worker uses; the fields mean what they mean in
// Config.
type WorkerConfig struct {
	Store          Store  // required
	Policy         Policy // required: whose badge a status change moves
	Notifier       Notifier
	Timeline       Timeline
	Channels       []Channel
	Pacer          Pacer
	StatusCheckFor time.Duration
	Observe
}

// NewWorker returns the Worker part alone.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	c, err := newCore(cfg.Observe.into(Config{
		Store: cfg.Store, Policy: cfg.Policy, Notifier: cfg.Notifier, Channels: cfg.Channels, Pacer: cfg.Pacer,
		StatusCheckFor: cfg.StatusCheckFor, Timeline: cfg.Timeline,
	}))
	if err != nil {
		return nil, err
	}
	return &Worker{c}, nil
}
