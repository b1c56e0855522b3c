package host

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	inappch "github.com/fieldtalk/fieldtalk/channel/inapp"
	"github.com/fieldtalk/fieldtalk/channel/sendgrid"
	"github.com/fieldtalk/fieldtalk/channel/twilio"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/notify"
	"github.com/fieldtalk/fieldtalk/notify/inapp"
	"github.com/fieldtalk/fieldtalk/notify/inapp/pgbus"
	"github.com/fieldtalk/fieldtalk/notify/push"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
	"github.com/fieldtalk/fieldtalk/store/outbox"
	"github.com/fieldtalk/fieldtalk/suggest"
	"github.com/fieldtalk/fieldtalk/suggest/llm"
	"github.com/fieldtalk/fieldtalk/suggest/rules"
)

// Value groups. Their order is random, so nothing depends on it: channels
// are keyed by Name() (the Service refuses two of one name), routes by
// pattern, and notifiers are all called.
const (
	groupChannels  = `group:"channels"`
	groupNotifiers = `group:"notifiers"`
	groupRoutes    = `group:"routes"`
	groupRouteSets = `group:"routes,flatten"`
)

// Paths of the provider webhooks (the public URL plus these is what the
// providers are configured with).
const (
	TwilioInboundPath  = "/webhooks/twilio/inbound"
	TwilioStatusPath   = "/webhooks/twilio/status"
	SendGridEventsPath = "/webhooks/sendgrid/events"
)

// New returns the example server: Logging, Core, the adapters cfg
// chooses (Adapters) and the demo business (WithDemo), plus extra.
func New(cfg Config, log *slog.Logger, extra ...fx.Option) *fx.App {
	return fx.New(Logging(log), Core(cfg), Adapters(cfg), WithDemo(), fx.Options(extra...))
}

// Logging supplies log to every constructor and routes fx's own events
// to it at debug level.
func Logging(log *slog.Logger) fx.Option {
	return fx.Options(
		fx.Supply(log),
		fx.WithLogger(func() fxevent.Logger {
			l := &fxevent.SlogLogger{Logger: log}
			l.UseLogLevel(slog.LevelDebug)
			return l
		}),
	)
}

// Core is everything but the replaceable adapters: the store, the
// delivery queue, the Service, the in-app stream, the JSON API, the signed
// hooks, the web app, the HTTP server and its Telemetry. It needs a conversations.Suggester, an
// Authenticator and, to send SMS, a Channel named "sms" in the group
// "channels": Adapters and WithDemo provide them, or you do.
func Core(cfg Config) fx.Option {
	start := fx.Options()
	if cfg.Citus {
		// The first start on a cluster lays every table out (and copies the
		// rows of a database that was on one server into the shards): far
		// longer than fx's default 15 seconds. Later starts find it done.
		start = fx.StartTimeout(10 * time.Minute)
	}
	return fx.Options(
		fx.Supply(cfg),
		start,
		fx.StopTimeout(cfg.ShutdownTimeout+5*time.Second),
		Telemetry(),
		fx.Provide(
			openStore,
			newOutbox,
			newBus,
			newThreadAccess,
			newHub,
			fx.Annotate(func(h *inapp.Hub) conversations.Notifier { return h }, fx.ResultTags(groupNotifiers)),
			fx.Annotate(newNotifier, fx.ParamTags(groupNotifiers)),
			fx.Annotate(inappch.New, fx.As(new(conversations.Channel)), fx.ResultTags(groupChannels)),
			fx.Annotate(newService, fx.ParamTags(``, ``, ``, ``, groupChannels)),
			fx.Annotate(newAPIRoutes, fx.ResultTags(groupRouteSets)),
			fx.Annotate(newHookRoutes, fx.ResultTags(groupRouteSets)),
			fx.Annotate(newAccountRoutes, fx.ResultTags(groupRouteSets)),
			fx.Annotate(newPreferenceRoutes, fx.ResultTags(groupRouteSets)),
			fx.Annotate(newOpenAPIRoutes, fx.ResultTags(groupRouteSets)),
			fx.Annotate(newWebRoutes, fx.ResultTags(groupRouteSets)),
			fx.Annotate(newServer, fx.ParamTags(``, ``, groupRoutes)),
		),
		// Asking for the Server builds it, and with it every route.
		fx.Invoke(startDeliveries, func(*Server) {}),
	)
}

// Adapters are the embedded defaults, or the providers cfg configures:
// SMS by Twilio or the console, email by SendGrid, suggestions by a model
// with the rules as fallback or by the rules alone, phone push by FCM or
// the host's gateway (the in-app stream is always there, in Core).
func Adapters(cfg Config) fx.Option {
	return fx.Options(SMS(cfg), Email(cfg), Suggestions(cfg), Push(cfg))
}

// SMS is Twilio (the channel, and its inbound and status webhooks) when
// cfg.Twilio is set, else the console channel and its simulated inbound.
func SMS(cfg Config) fx.Option {
	if !cfg.Twilio.enabled() {
		return fx.Options(
			fx.Provide(fx.Annotate(newConsoleChannel, fx.As(new(conversations.Channel)), fx.ResultTags(groupChannels))),
			DevSMS(),
		)
	}
	return fx.Provide(
		fx.Annotate(newTwilioChannel, fx.As(new(conversations.Channel)), fx.ResultTags(groupChannels)),
		fx.Annotate(newTwilioRoutes, fx.ResultTags(groupRouteSets)),
	)
}

// DevSMS serves POST /dev/sms, which plays a customer texting the business
// (see newConsoleRoutes): for a server whose SMS channel is a stand-in,
// the console's or another example's.
func DevSMS() fx.Option {
	return fx.Provide(fx.Annotate(newConsoleRoutes, fx.ResultTags(groupRouteSets)))
}

// Email is SendGrid (and its event webhook, with a verification key) when
// cfg.SendGrid is set, else nothing: the demo business then has no email
// sender, and the workflow hook refuses email (404, no sender).
func Email(cfg Config) fx.Option {
	if !cfg.SendGrid.enabled() {
		return fx.Options()
	}
	opts := []fx.Option{fx.Provide(fx.Annotate(newSendGridChannel, fx.As(new(conversations.Channel)), fx.ResultTags(groupChannels)))}
	if cfg.SendGrid.WebhookPublicKey != "" {
		opts = append(opts, fx.Provide(fx.Annotate(newSendGridRoutes, fx.ResultTags(groupRouteSets))))
	}
	return fx.Options(opts...)
}

// Suggestions are the offline rules, or a model behind suggest.Chain with
// the rules as its fallback when cfg.Model is set.
func Suggestions(cfg Config) fx.Option {
	if !cfg.Model.enabled() {
		return fx.Options(
			fx.Supply(rules.Config{}),
			fx.Provide(fx.Annotate(rules.New, fx.As(new(conversations.Suggester)))),
		)
	}
	return fx.Options(
		fx.Supply(rules.Config{}, llm.Config{BaseURL: cfg.Model.BaseURL, APIKey: cfg.Model.APIKey, Model: cfg.Model.Model}),
		fx.Provide(rules.New, newModel, newChain),
	)
}

// Push adds phone push to the notifiers: FCM when cfg.Push names
// credentials, the host's own push gateway when it names one.
func Push(cfg Config) fx.Option {
	var opts []fx.Option
	if cfg.Push.fcm() {
		opts = append(opts, fx.Provide(fx.Annotate(newFCM, fx.As(new(conversations.Notifier)), fx.ResultTags(groupNotifiers))))
	}
	if cfg.Push.webhook() {
		opts = append(opts, fx.Provide(fx.Annotate(newPushWebhook, fx.As(new(conversations.Notifier)), fx.ResultTags(groupNotifiers))))
	}
	return fx.Options(opts...)
}

// WithDemo provides the demo business and its tokens as the Authenticator, and
// seeds it at start.
func WithDemo() fx.Option {
	return fx.Options(
		fx.Provide(fx.Annotate(NewDemo, fx.As(fx.Self()), fx.As(new(Authenticator)))),
		fx.Provide(fx.Annotate(newDemoRoutes, fx.ResultTags(groupRouteSets))),
		fx.Invoke(seedDemo),
	)
}

// openStore opens the database; the schema is brought up to date at start.
func openStore(lc fx.Lifecycle, cfg Config, log *slog.Logger, tp trace.TracerProvider) (*store.DB, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	db, err := store.Open(ctx, cfg.Database, store.WithLogger(log), store.WithTracerProvider(tp))
	if err != nil {
		return nil, err
	}
	log.Info("database open", slog.String("dialect", db.Dialect()), slog.Bool("citus", cfg.Citus))
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			if err := db.Migrate(ctx); err != nil || !cfg.Citus {
				return err
			}
			return db.Distribute(ctx)
		},
		OnStop: func(context.Context) error { return db.Close() },
	})
	return db, nil
}

// newOutbox is the durable delivery queue on the same database; its tables
// are made at start.
func newOutbox(lc fx.Lifecycle, cfg Config, db *store.DB, log *slog.Logger, tp trace.TracerProvider, mp metric.MeterProvider) (*outbox.Outbox, error) {
	// The job timeout and the rescue of a crashed delivery follow from the
	// channels' deadline (both Twilio's and SendGrid's default to 15 s).
	opts := []outbox.Option{outbox.WithLogger(log), outbox.WithTracerProvider(tp), outbox.WithMeterProvider(mp),
		outbox.ForChannelTimeout(max(twilio.DefaultTimeout, sendgrid.DefaultTimeout))}
	if cfg.PollInterval > 0 {
		opts = append(opts, outbox.WithPollInterval(cfg.PollInterval))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	ob, err := outbox.New(ctx, db, opts...)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.Hook{OnStart: ob.Migrate})
	return ob, nil
}

// newBus carries the event stream's signals between server instances:
// over PostgreSQL LISTEN/NOTIFY when the store is PostgreSQL, which several
// instances share; in process on SQLite, which one instance owns.
func newBus(lc fx.Lifecycle, db *store.DB, log *slog.Logger) (inapp.Bus, error) {
	cc := db.ConnConfig()
	if cc == nil {
		return inapp.NewLocalBus(), nil
	}
	bus, err := pgbus.New(cc, db.SQL(), pgbus.WithLogger(log))
	if err != nil {
		return nil, err
	}
	lc.Append(fx.Hook{OnStop: func(context.Context) error { return bus.Close() }})
	return bus, nil
}

// newThreadAccess tells the notifiers, as an event leaves, whether its
// recipient may still see its thread, by the Service's rule.
func newThreadAccess(db *store.DB) (*conversations.ThreadAccess, error) {
	return conversations.NewThreadAccess(db, policy.Default())
}

// newHub is the in-app event stream, authenticated like the API.
func newHub(lc fx.Lifecycle, db *store.DB, bus inapp.Bus, access *conversations.ThreadAccess, auth Authenticator, log *slog.Logger) (*inapp.Hub, error) {
	hub, err := inapp.New(inapp.Config{
		Log:          db,
		Authenticate: func(r *http.Request) (conversations.Viewer, error) { return viewerOf(auth, r) },
		Bus:          bus,
		Visibility:   access,
	}, inapp.WithLogger(log))
	if err != nil {
		return nil, err
	}
	lc.Append(fx.Hook{OnStop: func(context.Context) error { return hub.Close() }})
	return hub, nil
}

// newNotifier tells every notifier of the group.
func newNotifier(ns []conversations.Notifier) (conversations.Notifier, error) {
	return notify.New(ns...)
}

// newService is the use cases, with every adapter the graph holds.
func newService(db *store.DB, ob *outbox.Outbox, sg conversations.Suggester, n conversations.Notifier, chs []conversations.Channel, log *slog.Logger, tp trace.TracerProvider, mp metric.MeterProvider, cfg Config) (*conversations.Service, error) {
	names := make([]string, len(chs))
	for i, ch := range chs {
		names[i] = ch.Name()
	}
	slices.Sort(names)
	log.Info("channels", slog.Any("names", names))
	return conversations.NewService(conversations.Config{
		Store: ob.Store(), Policy: policy.Default(), Notifier: n, Jobs: db, Suggester: sg,
		StoreTimeline: true, Pacer: ob, Channels: chs, Logger: log, AllowHTTPMedia: cfg.AllowHTTPMedia, TracerProvider: tp, MeterProvider: mp,
	})
}

// startDeliveries starts the queue's workers after everything else, and
// stops them before the database closes: a stop waits for the deliveries
// in flight (until the stop timeout, after which they are cancelled and
// retried by the next start).
func startDeliveries(lc fx.Lifecycle, ob *outbox.Outbox, svc *conversations.Service, log *slog.Logger) {
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			// River runs its workers under the context Start gets; fx
			// cancels the start context once starting is done.
			return ob.Start(context.WithoutCancel(ctx), svc)
		},
		OnStop: func(ctx context.Context) error {
			log.Info("stopping deliveries: waiting for those in flight")
			return ob.Stop(ctx)
		},
	})
}

func newTwilioChannel(cfg Config, log *slog.Logger, tp trace.TracerProvider, mp metric.MeterProvider) (*twilio.Channel, error) {
	opts := []twilio.Option{twilio.WithLogger(log), twilio.WithHTTPClient(providerClient(tp, mp))}
	if cfg.Twilio.BaseURL != "" {
		opts = append(opts, twilio.WithBaseURL(cfg.Twilio.BaseURL))
	}
	return twilio.New(twilio.Config{
		AccountSID: cfg.Twilio.AccountSID, AuthToken: cfg.Twilio.AuthToken,
		APIKeySID: cfg.Twilio.APIKeySID, APIKeySecret: cfg.Twilio.APIKeySecret,
		StatusCallbackURL: cfg.PublicURL + TwilioStatusPath,
	}, opts...)
}

func newTwilioRoutes(cfg Config, svc *conversations.Service, log *slog.Logger) ([]Route, error) {
	wh, err := twilio.NewWebhooks(twilio.Config{AuthToken: cfg.Twilio.AuthToken, PublicURL: cfg.PublicURL}, svc, twilio.WithLogger(log))
	if err != nil {
		return nil, err
	}
	return []Route{
		{"POST " + TwilioInboundPath, wh.Inbound()},
		{"POST " + TwilioStatusPath, wh.Status()},
	}, nil
}

func newSendGridChannel(cfg Config, log *slog.Logger, tp trace.TracerProvider, mp metric.MeterProvider) (*sendgrid.Channel, error) {
	opts := []sendgrid.Option{sendgrid.WithLogger(log), sendgrid.WithHTTPClient(providerClient(tp, mp))}
	if cfg.SendGrid.BaseURL != "" {
		opts = append(opts, sendgrid.WithBaseURL(cfg.SendGrid.BaseURL))
	}
	return sendgrid.New(sendgrid.Config{APIKey: cfg.SendGrid.APIKey}, opts...)
}

func newSendGridRoutes(cfg Config, svc *conversations.Service, log *slog.Logger) ([]Route, error) {
	wh, err := sendgrid.NewWebhook(sendgrid.WebhookConfig{PublicKey: cfg.SendGrid.WebhookPublicKey}, svc, sendgrid.WithLogger(log))
	if err != nil {
		return nil, err
	}
	return []Route{{"POST " + SendGridEventsPath, wh}}, nil
}

func newFCM(cfg Config, db *store.DB, access *conversations.ThreadAccess, log *slog.Logger) (*push.FCM, error) {
	creds, err := os.ReadFile(cfg.Push.FCMCredentials)
	if err != nil {
		return nil, &ConfigError{"FIELDTALK_FCM_CREDENTIALS", err.Error()}
	}
	return push.NewFCM(push.FCMConfig{Credentials: creds, Devices: db, BaseURL: cfg.Push.FCMBaseURL},
		push.WithLogger(log), push.WithVisibility(access))
}

func newPushWebhook(cfg Config, access *conversations.ThreadAccess, log *slog.Logger) (*push.Webhook, error) {
	return push.NewWebhook(push.WebhookConfig{URL: cfg.Push.WebhookURL, Secret: []byte(cfg.Push.WebhookSecret)},
		push.WithLogger(log), push.WithVisibility(access))
}

func newModel(cfg llm.Config, log *slog.Logger) (*llm.Suggester, error) {
	return llm.New(cfg, llm.WithLogger(log))
}

// newChain asks the model first and falls back to the rules.
func newChain(model *llm.Suggester, fallback *rules.Suggester, log *slog.Logger) (conversations.Suggester, error) {
	c, err := suggest.NewChain(suggest.ChainConfig{Primary: model, Fallback: fallback}, suggest.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("suggestions: %w", err)
	}
	return c, nil
}
