package sendgrid_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/channel/sendgrid"
	"github.com/fieldtalk/fieldtalk/channel/sendgrid/sendgridtest"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
	"github.com/fieldtalk/fieldtalk/store/outbox"
)

// TestWorkflowEmailEndToEnd sends an automated email through the real
// Service, store and queue to the fake SendGrid, then posts SendGrid's
// signed events back: the right message moves to delivered; a forged event
// changes nothing. Both databases.
func TestWorkflowEmailEndToEnd(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fake := sendgridtest.NewServer(t)
		ch, err := sendgrid.New(sendgrid.Config{APIKey: fake.APIKey(), Timeout: 2 * time.Second}, sendgrid.WithBaseURL(fake.URL()))
		if err != nil {
			t.Fatal(err)
		}
		ob, err := outbox.New(ctx, db, outbox.WithPollInterval(20*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if err := ob.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		svc, err := conversations.NewService(conversations.Config{Store: ob.Store(), Policy: policy.Default(), Channels: []conversations.Channel{ch}})
		if err != nil {
			t.Fatal(err)
		}
		if err := ob.Start(ctx, svc); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = ob.Stop(stop)
		})
		tenant := conversations.NewID[conversations.TenantID]()
		sender := "office@" + string(tenant)[:8] + ".example.com"
		if err := svc.ProvisionNumber(ctx, conversations.BusinessNumber{Tenant: tenant, Number: sender, Channel: conversations.ChannelEmail, Default: true}); err != nil {
			t.Fatal(err)
		}
		m, err := svc.SendWorkflow(ctx, conversations.WorkflowMessage{Tenant: tenant, Channel: conversations.ChannelEmail,
			Contact: conversations.Contact{Email: "pat@example.org", Name: "Pat Lee"}, Subject: "Invoice #1042", Body: "Your invoice is ready."})
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for len(fake.Sends()) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the queued email never reached SendGrid")
			}
			time.Sleep(10 * time.Millisecond)
		}
		send := fake.Sends()[0]
		if send.Mail.From.Email != sender || send.Mail.Subject != "Invoice #1042" {
			t.Fatalf("sent %+v, want from the business's sender with the subject", send.Mail)
		}

		signer, err := sendgridtest.NewSigner()
		if err != nil {
			t.Fatal(err)
		}
		wh, err := sendgrid.NewWebhook(sendgrid.WebhookConfig{PublicKey: signer.PublicKey()}, svc)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(wh)
		t.Cleanup(srv.Close)
		at := time.Now().Truncate(time.Second)

		forger, err := sendgridtest.NewSigner()
		if err != nil {
			t.Fatal(err)
		}
		resp, err := forger.Post(ctx, srv.Client(), srv.URL, sendgridtest.Batch(send.Event("dropped", at)), at)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("an event signed with another key answered %d, want 403", resp.StatusCode)
		}
		if got, _ := db.GetMessage(ctx, tenant, m.ID); got.Status == conversations.StatusFailed {
			t.Fatal("a forged event changed the message")
		}

		resp, err = signer.Post(ctx, srv.Client(), srv.URL, sendgridtest.Batch(send.Event("processed", at), send.Event("delivered", at.Add(time.Second))), at)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("signed events answered %d", resp.StatusCode)
		}
		got, err := db.GetMessage(ctx, tenant, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != conversations.StatusDelivered || !got.DeliveredAt.Equal(at.Add(time.Second).UTC()) || got.ProviderID != send.MessageID {
			t.Fatalf("after signed events: %s at %v provider %q; want delivered at %v, provider %q",
				got.Status, got.DeliveredAt, got.ProviderID, at.Add(time.Second), send.MessageID)
		}
	})
}
