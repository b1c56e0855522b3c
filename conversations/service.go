package conversations

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Config assembles a Service: every dependency of every part. The parts'
// own configs (AppConfig, SyncConfig, HooksConfig, WorkerConfig) take only
// what each uses.
type Config struct {
	// Store is required: package store provides it. A Store that is also a
	// QueueStore (store/outbox's Outbox.Store) lets the Service send: the
	// outbox is the Store's own, so a message and its delivery job always
	// share one transaction. With a plain Store, SendSMS, SendWorkflow and
	// Escalate are ErrInvalid; use the parts (NewApp, NewHooks), whose
	// configs take a QueueStore, to have the compiler check it.
	Store Store
	// Policy is required: policy.Default() is the product's rule.
	Policy Policy
	// Notifier is told of new messages, status changes and reads. Nil sends none.
	Notifier Notifier
	// Jobs reads job context from the host's CRM. JobThread needs it.
	Jobs Jobs
	// Suggester proposes replies; Suggestions needs it (suggest/rules is
	// the offline default).
	Suggester Suggester
	// StoreTimeline keeps the contacts' activity timeline in the Store: every
	// message of a customer thread is recorded once, in the transaction that
	// stores it (the Store must be a TimelineStore, as store.DB is).
	StoreTimeline bool
	// Timeline is a contacts' activity timeline kept elsewhere, such as the
	// host's CRM: every message of a customer thread is recorded on it once,
	// fed through the Store's outbox (the Store must be a QueueStore), so an
	// entry is never lost while the CRM is down. It may be set together with
	// StoreTimeline.
	Timeline Timeline
	// Channels deliver outbound messages, one per channel name (Name()).
	// Deliver needs the one a message's channel names.
	Channels []Channel
	// Pacer spaces out each business number's sends. Nil sends as fast as
	// the queue runs.
	Pacer Pacer
	// StatusCheckFor bounds how long after its creation a message whose
	// delivery reports stopped is still asked about (through its channel's
	// StatusFetcher); then it keeps the status the provider last reported.
	// Zero means DefaultStatusCheckFor.
	StatusCheckFor time.Duration
	// Clock returns the current time. Nil means time.Now.
	Clock func() time.Time
	// Logger receives the Service's logs. Nil discards them.
	Logger *slog.Logger
	// AllowHTTPMedia accepts http:// media URLs besides https:// (see
	// ContentRules): for development only.
	AllowHTTPMedia bool
	// TracerProvider and MeterProvider receive the Service's spans (one per
	// use case, per delivery attempt and per provider call) and metrics
	// (telemetry.go). Nil means none, at no cost.
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
}

// core is the state every part of the Service shares: the dependencies
// and the unexported helpers. Each part (App, Sync, Hooks, Worker) embeds a
// *core and owns the exported methods of one caller; Service embeds all four
// over one core.
type core struct {
	store     Store
	fast      FastStore // store with its optional abilities (fastpath.go)
	policy    Policy
	notifier  Notifier
	jobs      Jobs
	suggest   Suggester
	timeline  Timeline
	inStore   bool // the Store keeps the timeline (TimelineStore)
	outbox    Outbox
	owes      FanOutStore // the Store's, with a Notifier and an Outbox (fanout.go)
	fanOuts   fanOutLoop
	channels  map[string]Channel
	checkFor  time.Duration
	pacer     Pacer
	clock     func() time.Time
	log       *slog.Logger
	httpMedia bool
	tel       telemetry
}

// newCore checks cfg and builds the shared state. The outbox is the Store's
// own (a QueueStore), found once here: a Store and a queue of another
// database cannot be paired.
func newCore(cfg Config) (*core, error) {
	if cfg.Store == nil {
		return nil, Invalid("config.store", "required")
	}
	if cfg.Policy == nil {
		return nil, Invalid("config.policy", "required (policy.Default() is the product's rule)")
	}
	s := &core{
		store: cfg.Store, fast: WithFallbacks(cfg.Store), policy: cfg.Policy, notifier: cfg.Notifier, jobs: cfg.Jobs, suggest: cfg.Suggester, timeline: cfg.Timeline,
		channels: map[string]Channel{}, checkFor: cfg.StatusCheckFor, pacer: cfg.Pacer, clock: cfg.Clock, log: cfg.Logger, httpMedia: cfg.AllowHTTPMedia,
	}
	if q, ok := cfg.Store.(QueueStore); ok {
		s.outbox = q
	}
	if cfg.StoreTimeline {
		if _, ok := cfg.Store.(TimelineStore); !ok {
			return nil, Invalid("config.store_timeline", "the Store keeps no timeline (it is not a conversations.TimelineStore)")
		}
		s.inStore = true
	}
	if f, ok := cfg.Store.(FanOutStore); ok && cfg.Notifier != nil && s.outbox != nil {
		// Off the webhook's path only where the Outbox's fan-out sweep
		// makes up for what a crash leaves owed.
		s.owes = f
	}
	switch {
	case s.checkFor < 0:
		return nil, Invalid("config.status_check_for", "negative")
	case s.checkFor == 0:
		s.checkFor = DefaultStatusCheckFor
	}
	for _, ch := range cfg.Channels {
		if ch == nil || ch.Name() == "" {
			return nil, Invalid("config.channels", "a nil or unnamed channel")
		}
		if _, dup := s.channels[ch.Name()]; dup {
			return nil, Invalid("config.channels", "two channels named "+ch.Name())
		}
		s.channels[ch.Name()] = ch
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	tel, err := newTelemetry(cfg.TracerProvider, cfg.MeterProvider)
	if err != nil {
		return nil, err
	}
	s.tel = tel
	return s, nil
}

// now is the core's clock in UTC at the precision the stores keep.
func (s *core) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

// visibleThread loads a thread and checks that v may see it: another
// tenant's thread is ErrNotFound, one v may not see is ErrForbidden.
func (s *core) visibleThread(ctx context.Context, st Store, v Viewer, id ThreadID) (Thread, error) {
	if err := threadRef(v, id); err != nil {
		return Thread{}, err
	}
	t, err := st.GetThread(ctx, v.Tenant, id)
	if err != nil {
		return Thread{}, err
	}
	if !s.policy.Scope(v).Allows(t) {
		return Thread{}, errForbidden("thread")
	}
	return t, nil
}

// threadRef checks what a call that names a thread for v needs.
func threadRef(v Viewer, id ThreadID) error {
	if err := v.Validate(); err != nil {
		return err
	}
	return checkID("thread", id)
}

func errForbidden(what string) error {
	return &accessError{what: what}
}

type accessError struct{ what string }

func (e *accessError) Error() string {
	return "conversations: forbidden: the viewer may not access this " + e.what
}
func (e *accessError) Unwrap() error { return ErrForbidden }

// PutStaff creates or updates a staff member, as the host's CRM syncs them in.
func (s *Sync) PutStaff(ctx context.Context, st Staff) (err error) {
	ctx, span := s.tel.start(ctx, "conversations.PutStaff", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := st.Viewer().Validate(); err != nil {
		return err
	}
	if err := CheckLine("name", st.Name, MaxNameRunes); err != nil {
		return err
	}
	if st.CreatedAt.IsZero() {
		st.CreatedAt = s.now()
	}
	return s.store.PutStaff(ctx, st)
}

// ProvisionNumber records a number provisioned to a business: inbound
// messages to it land in that business, and outbound SMS go from it.
func (s *Sync) ProvisionNumber(ctx context.Context, n BusinessNumber) (err error) {
	ctx, span := s.tel.start(ctx, "conversations.ProvisionNumber", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := checkID("tenant", n.Tenant); err != nil {
		return err
	}
	if err := CheckLine("messaging_service", n.MessagingService, MaxIDRunes); err != nil {
		return err
	}
	if n.Channel == "" {
		n.Channel = ChannelSMS
	}
	switch {
	case n.Channel == ChannelSMS && !ValidE164(n.Number):
		return Invalid("number", "not an E.164 phone number")
	case n.Channel == ChannelEmail && !validEmail(n.Number):
		return Invalid("number", "an email sender must be an email address")
	case n.Channel != ChannelSMS && n.Channel != ChannelEmail:
		return Invalid("channel", "numbers are provisioned for sms or email")
	}
	if n.Number == "" {
		return Invalid("number", "empty")
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = s.now()
	}
	return s.store.PutNumber(ctx, n)
}

// NumberOwner returns the business a number is provisioned to; webhooks use
// it to route an inbound message.
func (s *Hooks) NumberOwner(ctx context.Context, number string) (BusinessNumber, error) {
	ctx, span := s.tel.start(ctx, "conversations.NumberOwner", trace.SpanKindInternal)
	defer span.End()
	if number == "" {
		return BusinessNumber{}, Invalid("number", "empty")
	}
	if err := CheckLine("number", number, MaxAddressRunes); err != nil {
		return BusinessNumber{}, err
	}
	return s.store.NumberOwner(ctx, number)
}

// defaultNumber returns the tenant's default number for channel.
func (s *core) defaultNumber(ctx context.Context, st Store, tenant TenantID, channel string) (BusinessNumber, error) {
	nums, err := st.ListNumbers(ctx, tenant)
	if err != nil {
		return BusinessNumber{}, err
	}
	var first *BusinessNumber
	for i, n := range nums {
		if n.Channel != channel {
			continue
		}
		if n.Default {
			return n, nil
		}
		if first == nil {
			first = &nums[i]
		}
	}
	if first != nil {
		return *first, nil
	}
	return BusinessNumber{}, &missingNumberError{tenant: tenant, channel: channel}
}

type missingNumberError struct {
	tenant  TenantID
	channel string
}

func (e *missingNumberError) Error() string {
	return "conversations: business " + string(e.tenant) + " has no provisioned " + e.channel + " number"
}
func (e *missingNumberError) Unwrap() error { return ErrNotFound }

// isNotFound is errors.Is(err, ErrNotFound).
func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
