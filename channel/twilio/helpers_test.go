package twilio_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/channel/twilio"
	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
)

const (
	businessNumber = "+14155550100"
	customerNumber = "+14155550142"
	callbackURL    = "https://hooks.example.com/twilio/status"
	publicURL      = "https://hooks.example.com"
)

func newChannel(t *testing.T, srv *twiliotest.Server, opts ...twilio.Option) *twilio.Channel {
	t.Helper()
	cfg := twilio.Config{AccountSID: srv.AccountSID(), AuthToken: srv.AuthToken(), StatusCallbackURL: callbackURL}
	ch, err := twilio.New(cfg, append([]twilio.Option{twilio.WithBaseURL(srv.URL())}, opts...)...)
	if err != nil {
		t.Fatalf("twilio.New: %v", err)
	}
	return ch
}

func outbound() conversations.Outbound {
	return conversations.Outbound{
		Tenant:  "acme-plumbing",
		Message: conversations.NewID[conversations.MessageID](),
		Thread:  "thread-1",
		Channel: conversations.ChannelSMS,
		From:    businessNumber,
		To:      customerNumber,
		Body:    "Hi, this is Sam from Acme Plumbing. I'm 10 minutes away.",
	}
}

func readForm(t *testing.T, name string) url.Values {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		t.Fatalf("testdata/%s: %v", name, err)
	}
	return form
}

// receiver is a conversations.Service stand-in for the webhook handlers: it
// owns numbers, dedupes inbound messages by provider id as the Service
// does, and records every call.
type receiver struct {
	mu         sync.Mutex
	numbers    map[string]conversations.BusinessNumber
	receives   []conversations.InboundMessage // every Receive call
	stored     map[string]conversations.Message
	statuses   []conversations.StatusUpdate
	ownerCalls int
	receiveErr error
	statusErr  error
}

func newReceiver() *receiver {
	return &receiver{
		numbers: map[string]conversations.BusinessNumber{
			businessNumber: {Tenant: "acme-plumbing", Number: businessNumber, Channel: conversations.ChannelSMS},
		},
		stored: map[string]conversations.Message{},
	}
}

func (r *receiver) NumberOwner(_ context.Context, number string) (conversations.BusinessNumber, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ownerCalls++
	n, ok := r.numbers[number]
	if !ok {
		return conversations.BusinessNumber{}, conversations.ErrNotFound
	}
	return n, nil
}

func (r *receiver) Receive(_ context.Context, in conversations.InboundMessage) (conversations.Message, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.receiveErr != nil {
		return conversations.Message{}, false, r.receiveErr
	}
	if in.Tenant == "" { // as the Service does: the number's business, or nothing filed
		n, ok := r.numbers[in.BusinessNumber]
		if !ok {
			return conversations.Message{}, false, conversations.ErrNotFound
		}
		in.Tenant = n.Tenant
	}
	r.receives = append(r.receives, in)
	if m, ok := r.stored[in.ProviderID]; ok {
		return m, false, nil
	}
	m := conversations.Message{
		ID: conversations.NewID[conversations.MessageID](), Tenant: in.Tenant, Body: in.Body, Media: in.Media,
		From: in.From, To: in.BusinessNumber, ProviderID: in.ProviderID, Status: conversations.StatusReceived,
		CreatedAt: in.ReceivedAt,
	}
	r.stored[in.ProviderID] = m
	return m, true, nil
}

func (r *receiver) ApplyStatus(_ context.Context, u conversations.StatusUpdate) (conversations.Message, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.statusErr != nil {
		return conversations.Message{}, r.statusErr
	}
	r.statuses = append(r.statuses, u)
	return conversations.Message{ID: u.Message, Tenant: u.Tenant, Status: u.Status}, nil
}

func (r *receiver) snapshot() (receives []conversations.InboundMessage, stored int, statuses []conversations.StatusUpdate, ownerCalls int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]conversations.InboundMessage(nil), r.receives...), len(r.stored),
		append([]conversations.StatusUpdate(nil), r.statuses...), r.ownerCalls
}

var fixedNow = time.Date(2025, 3, 14, 15, 40, 0, 0, time.UTC)

func clock() time.Time { return fixedNow }
