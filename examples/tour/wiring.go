package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"time"

	"go.uber.org/fx"

	"github.com/fieldtalk/fieldtalk/channel/sendgrid"
	"github.com/fieldtalk/fieldtalk/channel/sendgrid/sendgridtest"
	"github.com/fieldtalk/fieldtalk/channel/twilio"
	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
	"github.com/fieldtalk/fieldtalk/store/outbox"
	"github.com/fieldtalk/fieldtalk/suggest/rules"
)

// The tour's wiring, with go.uber.org/fx as the example server does: the
// library's plain constructors, annotated here. Twilio and SendGrid are the
// real adapters, pointed at the in-process fakes of their APIs, and their
// webhooks are served on loopback and posted to signed, as the providers
// post them.

// publicURL is the address the providers are told to call back: the
// webhooks are signed over it, and the fakes' posts are sent on to the
// loopback server behind it.
const publicURL = "https://fieldtalk.example.com"

// dir is the temporary folder of the day's SQLite database.
type dir string

// world is everything the story touches.
type world struct {
	fx.In
	Clock    *clock
	Out      *transcript
	Phones   *phones
	DB       *store.DB
	Svc      *conversations.Service
	Twilio   *twiliotest.Server
	SendGrid *sendgridtest.Server
	Hooks    *webhooks
}

func wiring(d dir, out *transcript, names cast, w *world) fx.Option {
	return fx.Options(
		fx.NopLogger,
		fx.Supply(d, out, names),
		fx.Provide(
			newClock,
			fx.Annotate(newPhones, fx.As(fx.Self()), fx.As(new(conversations.Notifier))),
			openStore,
			newOutbox,
			newTwilioFake,
			newSendGridFake,
			sendgridtest.NewSigner,
			fx.Annotate(newTwilioChannel, fx.As(new(conversations.Channel)), fx.ResultTags(`group:"channels"`)),
			fx.Annotate(newSendGridChannel, fx.As(new(conversations.Channel)), fx.ResultTags(`group:"channels"`)),
			fx.Annotate(newRules, fx.As(new(conversations.Suggester))),
			fx.Annotate(newService, fx.ParamTags(``, ``, ``, ``, `group:"channels"`, ``)),
			newWebhooks,
		),
		fx.Invoke(startDeliveries),
		fx.Populate(w),
	)
}

func newClock() *clock { return &clock{now: tourDay(7, 55, 0)} }

func openStore(lc fx.Lifecycle, d dir) (*store.DB, error) {
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(string(d), "tour.db"))
	if err != nil {
		return nil, err
	}
	lc.Append(fx.Hook{OnStart: db.Migrate, OnStop: func(context.Context) error { return db.Close() }})
	return db, nil
}

// newOutbox is the real durable queue, polling often: a day in the field
// takes a few seconds.
func newOutbox(lc fx.Lifecycle, db *store.DB) (*outbox.Outbox, error) {
	ob, err := outbox.New(context.Background(), db, outbox.WithPollInterval(10*time.Millisecond))
	if err != nil {
		return nil, err
	}
	lc.Append(fx.Hook{OnStart: ob.Migrate})
	return ob, nil
}

func newTwilioFake(lc fx.Lifecycle, c *clock) *twiliotest.Server {
	s := twiliotest.NewServer(nil)
	s.SetClock(c.Now)
	lc.Append(fx.Hook{OnStop: func(context.Context) error { s.Close(); return nil }})
	return s
}

func newSendGridFake(lc fx.Lifecycle, c *clock) *sendgridtest.Server {
	s := sendgridtest.NewServer(nil)
	s.SetClock(c.Now)
	lc.Append(fx.Hook{OnStop: func(context.Context) error { s.Close(); return nil }})
	return s
}

func newTwilioChannel(fake *twiliotest.Server, c *clock) (*twilio.Channel, error) {
	return twilio.New(twilio.Config{
		AccountSID: fake.AccountSID(), AuthToken: fake.AuthToken(),
		StatusCallbackURL: publicURL + "/twilio/status",
	}, twilio.WithBaseURL(fake.URL()), twilio.WithClock(c.Now))
}

func newSendGridChannel(fake *sendgridtest.Server, c *clock) (*sendgrid.Channel, error) {
	return sendgrid.New(sendgrid.Config{APIKey: fake.APIKey(), FromName: "Acme Plumbing"},
		sendgrid.WithBaseURL(fake.URL()), sendgrid.WithClock(c.Now))
}

func newRules(c *clock) (*rules.Suggester, error) {
	return rules.New(rules.Config{Business: "Acme Plumbing"}, rules.WithClock(c.Now))
}

func newService(db *store.DB, ob *outbox.Outbox, sg conversations.Suggester, n conversations.Notifier, chs []conversations.Channel, c *clock) (*conversations.Service, error) {
	return conversations.NewService(conversations.Config{
		Store: ob.Store(), Policy: policy.Default(), Notifier: n, Jobs: db, Suggester: sg,
		StoreTimeline: true, Channels: chs, Clock: c.Now,
	})
}

func startDeliveries(lc fx.Lifecycle, ob *outbox.Outbox, svc *conversations.Service) {
	lc.Append(fx.Hook{
		// River works under the context Start gets; fx ends the start
		// context once the app is up.
		OnStart: func(ctx context.Context) error { return ob.Start(context.WithoutCancel(ctx), svc) },
		OnStop:  ob.Stop,
	})
}

// webhooks serves the providers' webhooks on loopback, and posts to them
// as the providers do.
type webhooks struct {
	srv    *httptest.Server
	twilio *twiliotest.WebhookClient
	signer *sendgridtest.Signer
}

func newWebhooks(lc fx.Lifecycle, svc *conversations.Service, fake *twiliotest.Server, signer *sendgridtest.Signer, c *clock) (*webhooks, error) {
	tw, err := twilio.NewWebhooks(twilio.Config{AuthToken: fake.AuthToken(), PublicURL: publicURL}, svc, twilio.WithClock(c.Now))
	if err != nil {
		return nil, err
	}
	sg, err := sendgrid.NewWebhook(sendgrid.WebhookConfig{PublicKey: signer.PublicKey()}, svc, sendgrid.WithClock(c.Now))
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /twilio/inbound", tw.Inbound())
	mux.Handle("POST /twilio/status", tw.Status())
	mux.Handle("POST /sendgrid/events", sg)
	h := &webhooks{srv: httptest.NewUnstartedServer(mux), signer: signer}
	h.twilio = &twiliotest.WebhookClient{Signer: twiliotest.Signer{AuthToken: fake.AuthToken()}}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			h.srv.Start()
			h.twilio.Target = h.srv.URL
			return nil
		},
		OnStop: func(context.Context) error { h.srv.Close(); return nil },
	})
	return h, nil
}
