package sendgrid_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/channel/sendgrid"
	"github.com/fieldtalk/fieldtalk/channel/sendgrid/sendgridtest"
	"github.com/fieldtalk/fieldtalk/conversations"
)

const (
	businessAddress = "office@acme-plumbing.example.com"
	customerAddress = "jordan.lee@example.net"
	tenant          = "acme-plumbing"
)

func newChannel(t *testing.T, srv *sendgridtest.Server, opts ...sendgrid.Option) *sendgrid.Channel {
	t.Helper()
	ch, err := sendgrid.New(sendgrid.Config{APIKey: srv.APIKey(), FromName: "Acme Plumbing"},
		append([]sendgrid.Option{sendgrid.WithBaseURL(srv.URL())}, opts...)...)
	if err != nil {
		t.Fatalf("sendgrid.New: %v", err)
	}
	return ch
}

func outbound() conversations.Outbound {
	return conversations.Outbound{
		Tenant:  tenant,
		Message: conversations.NewID[conversations.MessageID](),
		Thread:  "thread-1",
		Channel: conversations.ChannelEmail,
		From:    businessAddress,
		To:      customerAddress,
		Subject: "Your appointment tomorrow",
		Body:    "Hi Jordan,\n\nSam will arrive between 9 and 11 tomorrow.\nReply to this email to reschedule.",
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newSigner(t *testing.T) *sendgridtest.Signer {
	t.Helper()
	s, err := sendgridtest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// receiver is a conversations.Service stand-in for the Webhook: it records
// every update and fails as told.
type receiver struct {
	mu      sync.Mutex
	updates []conversations.StatusUpdate // every call, in order
	fail    func(u conversations.StatusUpdate) error
}

func (r *receiver) ApplyStatus(_ context.Context, u conversations.StatusUpdate) (conversations.Message, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updates = append(r.updates, u)
	if r.fail != nil {
		if err := r.fail(u); err != nil {
			return conversations.Message{}, err
		}
	}
	return conversations.Message{ID: u.Message, Tenant: u.Tenant, Status: u.Status}, nil
}

func (r *receiver) calls() []conversations.StatusUpdate {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]conversations.StatusUpdate(nil), r.updates...)
}

// fixedNow is when the events in testdata/events.json were posted.
var fixedNow = time.Date(2025, 3, 14, 15, 50, 0, 0, time.UTC)

func clock() time.Time { return fixedNow }
