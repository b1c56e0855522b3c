package sendgrid_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/fieldtalk/fieldtalk/channel/inapp"
	"github.com/fieldtalk/fieldtalk/channel/sendgrid"
	"github.com/fieldtalk/fieldtalk/channel/sendgrid/sendgridtest"
	"github.com/fieldtalk/fieldtalk/conversations"
)

// A host hands the channel to its delivery Worker and mounts the event webhook.
// The configuration comes from the host (the library never reads the
// environment).
func Example() {
	email, err := sendgrid.New(sendgrid.Config{
		APIKey:   "SG.xxxxxxxxxxxxxxxxxxxxxx.yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy",
		FromName: "Acme Plumbing",
	}, sendgrid.WithLogger(slog.Default()))
	if err != nil {
		panic(err)
	}
	// The Worker (conversations.WorkerConfig.Channels, or Config.Channels)
	// finds each message\'s channel by its Name().
	channels := []conversations.Channel{email, inapp.New()}
	_ = channels

	var svc *conversations.Service // the host's, from conversations.NewService
	events, err := sendgrid.NewWebhook(sendgrid.WebhookConfig{
		// Settings > Mail Settings > Event Webhook > Signed Event Webhook.
		PublicKey: "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==",
	}, svc)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /sendgrid/events", events)
}

// Sending against the fake SendGrid, and what a rate limit looks like to
// the delivery worker.
func ExampleChannel_Send() {
	srv := sendgridtest.NewServer(nil)
	defer srv.Close()
	email, err := sendgrid.New(sendgrid.Config{APIKey: srv.APIKey(), FromName: "Acme Plumbing"}, sendgrid.WithBaseURL(srv.URL()))
	if err != nil {
		panic(err)
	}
	out := conversations.Outbound{
		Tenant: "acme-plumbing", Message: "msg-1", Thread: "thread-9",
		From: "office@acme-plumbing.example.com", To: "Jordan Lee <jordan.lee@example.net>",
		Subject: "Your visit tomorrow", Body: "Sam will arrive between 9 and 11.",
	}

	srv.Fail(1, sendgridtest.RateLimit(30*time.Second))
	_, err = email.Send(context.Background(), out)
	var pe *conversations.ProviderError
	if errors.As(err, &pe) {
		fmt.Println(pe.Class, pe.HTTPStatus, pe.RetryAfter)
	}

	r, err := email.Send(context.Background(), out)
	fmt.Println(len(r.ProviderID), r.Status, err)
	m := srv.Sends()[0].Mail
	fmt.Println(m.From.Name, "→", m.Personalizations[0].To[0].Email)
	fmt.Println(m.CustomArgs[sendgrid.ArgMessage], m.CustomArgs[sendgrid.ArgTenant])
	// Output:
	// retryable 429 30s
	// 22 queued <nil>
	// Acme Plumbing → jordan.lee@example.net
	// msg-1 acme-plumbing
}

// printer is a Receiver that prints what it is given.
type printer struct{}

func (printer) ApplyStatus(_ context.Context, u conversations.StatusUpdate) (conversations.Message, error) {
	code := u.ErrorCode
	if code == "" {
		code = "-"
	}
	fmt.Println(u.Message, u.Status, u.At.Format(time.TimeOnly), code)
	return conversations.Message{ID: u.Message, Status: u.Status}, nil
}

// SendGrid posts a signed batch of events; each event about one of our
// emails becomes a status update.
func ExampleWebhook() {
	signer, err := sendgridtest.NewSigner()
	if err != nil {
		panic(err)
	}
	now := time.Date(2025, 3, 14, 15, 50, 0, 0, time.UTC)
	hook, err := sendgrid.NewWebhook(sendgrid.WebhookConfig{PublicKey: signer.PublicKey()}, printer{},
		sendgrid.WithClock(func() time.Time { return now }))
	if err != nil {
		panic(err)
	}
	ours := map[string]string{sendgrid.ArgMessage: "msg-1", sendgrid.ArgTenant: "acme-plumbing"}
	batch := sendgridtest.Batch(
		sendgridtest.Event{Event: "processed", Timestamp: now.Add(-3 * time.Minute), MessageID: "W86EgYT6SQKk0lRflfLRsA", CustomArgs: ours},
		sendgridtest.Event{Event: "deferred", Timestamp: now.Add(-2 * time.Minute), MessageID: "W86EgYT6SQKk0lRflfLRsA", CustomArgs: ours, Attempt: "1"},
		sendgridtest.Event{Event: "bounce", Timestamp: now.Add(-1 * time.Minute), MessageID: "W86EgYT6SQKk0lRflfLRsA", CustomArgs: ours,
			Type: "bounce", Status: "5.1.1", BounceClassification: "Invalid Address"},
		sendgridtest.Event{Event: "delivered", Timestamp: now, MessageID: "Zx9Yw8Vu7Ts6Rq5Po4Nm3L"}, // not ours
	)

	w := httptest.NewRecorder()
	hook.ServeHTTP(w, signer.Request("/sendgrid/events", batch, now))
	fmt.Println(w.Code)

	forged := signer.Request("/sendgrid/events", batch, now)
	forged.Header.Set(sendgrid.TimestampHeader, fmt.Sprint(now.Unix()-1))
	w = httptest.NewRecorder()
	hook.ServeHTTP(w, forged)
	fmt.Println(w.Code)
	// Output:
	// msg-1 sending 15:47:00 -
	// msg-1 undelivered 15:49:00 5.1.1
	// 200
	// 403
}
