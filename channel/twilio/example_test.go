package twilio_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/fieldtalk/fieldtalk/channel/inapp"
	"github.com/fieldtalk/fieldtalk/channel/twilio"
	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
)

// A host hands the channel to its delivery Worker and mounts the webhooks. The
// configuration comes from the host (the library never reads the environment).
func Example() {
	cfg := twilio.Config{
		AccountSID:        "AC00000000000000000000000000000001",
		AuthToken:         "0123456789abcdef0123456789abcdef",
		StatusCallbackURL: "https://api.example.com/twilio/status",
		PublicURL:         "https://api.example.com",
	}
	sms, err := twilio.New(cfg, twilio.WithLogger(slog.Default()))
	if err != nil {
		panic(err)
	}
	// The Worker (conversations.WorkerConfig.Channels, or Config.Channels)
	// finds each message\'s channel by its Name().
	channels := []conversations.Channel{sms, inapp.New()}
	_ = channels

	var svc twilio.Receiver // the host's *conversations.Service
	hooks, err := twilio.NewWebhooks(cfg, svc)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /twilio/inbound", hooks.Inbound())
	mux.Handle("POST /twilio/status", hooks.Status())
}

// Sending against the fake Twilio, and what a rate limit looks like to the
// delivery worker.
func ExampleChannel_Send() {
	srv := twiliotest.NewServer(nil)
	defer srv.Close()
	sms, err := twilio.New(twilio.Config{AccountSID: srv.AccountSID(), AuthToken: srv.AuthToken()}, twilio.WithBaseURL(srv.URL()))
	if err != nil {
		panic(err)
	}
	out := conversations.Outbound{
		Tenant: "acme-plumbing", Message: "msg-1",
		From: "+14155550100", To: "(415) 555-0142", Body: "Sam is 10 minutes away.",
	}

	srv.Fail(1, twiliotest.RateLimit(30*time.Second))
	_, err = sms.Send(context.Background(), out)
	var pe *conversations.ProviderError
	if errors.As(err, &pe) {
		fmt.Println(pe.Class, pe.Code, pe.RetryAfter)
	}

	r, err := sms.Send(context.Background(), out)
	fmt.Println(len(r.ProviderID), r.Status, err)
	fmt.Println(srv.Creates()[0].Form.Get("To"))
	// Output:
	// retryable 20429 30s
	// 34 queued <nil>
	// +14155550142
}
