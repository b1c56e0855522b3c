package twilio_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/channel/twilio"
	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
	"github.com/fieldtalk/fieldtalk/store/outbox"
)

// These tests wire the Twilio adapter to the real Service, store and
// durable queue, on SQLite and PostgreSQL, with the fake Twilio on loopback.

const e2ePublicURL = "https://api.example.com"

var e2eNumbers atomic.Int64

type e2e struct {
	db      *store.DB
	svc     *conversations.Service
	fake    *twiliotest.Server
	client  *twiliotest.WebhookClient
	tenants map[string]conversations.TenantID
	numbers map[string]string
	disp    map[string]conversations.Viewer
}

func newE2E(t *testing.T, db *store.DB) *e2e {
	t.Helper()
	ctx := context.Background()
	fake := twiliotest.NewServer(t)
	ch, err := twilio.New(twilio.Config{
		AccountSID: fake.AccountSID(), AuthToken: fake.AuthToken(), Timeout: 2 * time.Second,
		StatusCallbackURL: e2ePublicURL + "/twilio/status",
	}, twilio.WithBaseURL(fake.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ob, err := outbox.New(ctx, db, outbox.WithPollInterval(20*time.Millisecond), outbox.WithBackoff(20*time.Millisecond, 200*time.Millisecond))
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
	wh, err := twilio.NewWebhooks(twilio.Config{AuthToken: fake.AuthToken(), PublicURL: e2ePublicURL}, svc)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /twilio/inbound", wh.Inbound())
	mux.Handle("POST /twilio/status", wh.Status())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	e := &e2e{
		db: db, svc: svc, fake: fake,
		client:  &twiliotest.WebhookClient{Signer: twiliotest.Signer{AuthToken: fake.AuthToken()}, Target: srv.URL},
		tenants: map[string]conversations.TenantID{}, numbers: map[string]string{}, disp: map[string]conversations.Viewer{},
	}
	for _, name := range []string{"acme", "bolt"} {
		tenant := conversations.NewID[conversations.TenantID]()
		st := conversations.Staff{Tenant: tenant, ID: "dana", Name: "Dana", Role: conversations.RoleDispatcher}
		if err := svc.PutStaff(ctx, st); err != nil {
			t.Fatal(err)
		}
		number := fmt.Sprintf("+1500888%04d", e2eNumbers.Add(1))
		if err := svc.ProvisionNumber(ctx, conversations.BusinessNumber{Tenant: tenant, Number: number, Default: true}); err != nil {
			t.Fatal(err)
		}
		e.tenants[name], e.numbers[name], e.disp[name] = tenant, number, st.Viewer()
	}
	return e
}

// waitCreates waits until the fake Twilio was asked to send n texts, and
// fails when that does not come.
func (e *e2e) waitCreates(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(e.fake.Creates()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("Twilio got %d texts, want %d: the queued messages never reached it", len(e.fake.Creates()), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *e2e) post(t *testing.T, path string, form map[string][]string, token string) int {
	t.Helper()
	resp, err := e.client.Post(context.Background(), e2ePublicURL+path, form, token)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (e *e2e) inbox(t *testing.T, business string) []conversations.Thread {
	t.Helper()
	p, err := e.svc.Inbox(context.Background(), e.disp[business], conversations.InboxQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return p.Threads
}

func TestSignedInboundLandsOnceInTheRightBusiness(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newE2E(t, db)
		in := twiliotest.Inbound{MessageSID: twiliotest.NewSID("SM"), From: "+15005550999", To: e.numbers["bolt"], Body: "Is the tech still coming today?"}
		// Twilio retries with the same idempotency token, and may deliver again with a new one.
		for _, token := range []string{"tok-1", "tok-1", "tok-2"} {
			if code := e.post(t, "/twilio/inbound", in.Form(), token); code != http.StatusOK {
				t.Fatalf("signed inbound answered %d", code)
			}
		}
		threads := e.inbox(t, "bolt")
		if len(threads) != 1 || threads[0].LastSeq != 1 || threads[0].Preview != in.Body {
			t.Fatalf("idempotency rule broken: bolt's inbox after three deliveries = %+v", threads)
		}
		if got := e.inbox(t, "acme"); len(got) != 0 {
			t.Fatalf("tenant isolation broken: acme sees %+v", got)
		}

		// Forgeries change nothing.
		forged := twiliotest.Inbound{From: "+15005550666", To: e.numbers["bolt"], Body: "forged"}.Form()
		wrongKey := &twiliotest.WebhookClient{Signer: twiliotest.Signer{AuthToken: strings.Repeat("f", 32)}, Target: e.client.Target}
		resp, err := wrongKey.Post(context.Background(), e2ePublicURL+"/twilio/inbound", forged, "")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("a webhook signed with another token answered %d, want 403", resp.StatusCode)
		}
		resp, err = e.client.Post(context.Background(), "http://internal-host:8080/twilio/inbound", forged, "")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("a webhook signed over another URL answered %d, want 403", resp.StatusCode)
		}
		if got := e.inbox(t, "bolt"); len(got) != 1 {
			t.Fatalf("a forged webhook changed bolt's inbox: %+v", got)
		}
	})
}

func TestOptedOutNumberIsNeverTexted(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newE2E(t, db)
		stop := twiliotest.Inbound{From: "+15005550999", To: e.numbers["acme"], Body: "STOP"}
		if code := e.post(t, "/twilio/inbound", stop.Form(), ""); code != http.StatusOK {
			t.Fatalf("STOP answered %d", code)
		}
		thread := e.inbox(t, "acme")[0].ID
		_, err := e.svc.SendSMS(ctx, e.disp["acme"], conversations.SendSMS{Thread: thread, Body: "We miss you"})
		if !errors.Is(err, conversations.ErrOptedOut) {
			t.Fatalf("SendSMS to an opted-out number: %v, want ErrOptedOut", err)
		}
		_, err = e.svc.SendSMS(ctx, e.disp["acme"], conversations.SendSMS{To: "+15005550999", Body: "We miss you"})
		if !errors.Is(err, conversations.ErrOptedOut) {
			t.Fatalf("SendSMS by number to an opted-out customer: %v, want ErrOptedOut", err)
		}
		// Another business's customer of the same number is not affected.
		bolt, err := e.svc.SendSMS(ctx, e.disp["bolt"], conversations.SendSMS{To: "+15005550999", Body: "Hi from Bolt"})
		if err != nil {
			t.Fatalf("an opt-out belongs to the business texted: %v", err)
		}
		// Acme stored no outbound message, so the queue, which delivers
		// only stored messages, has nothing of Acme's to send, ever; and
		// the queue does work: Bolt's text reaches Twilio.
		for _, th := range e.inbox(t, "acme") {
			page, err := e.svc.History(ctx, e.disp["acme"], th.ID, conversations.HistoryQuery{})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range page.Messages {
				if m.Direction == conversations.DirectionOutbound {
					t.Fatalf("opt-out rule broken: acme stored an outbound text %+v", m)
				}
			}
		}
		e.waitCreates(t, 1)
		for _, c := range e.fake.Creates() {
			if c.Form.Get("From") == e.numbers["acme"] {
				t.Fatalf("opt-out rule broken: acme texted %s", c.Form.Get("To"))
			}
		}
		if c := e.fake.Creates(); len(c) != 1 || c[0].Form.Get("Body") != bolt.Body {
			t.Fatalf("Twilio got %+v, want Bolt's one text", c)
		}
	})
}

func TestSendThenStatusCallbacks(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newE2E(t, db)
		in := twiliotest.Inbound{From: "+15005550999", To: e.numbers["acme"], Body: "hi"}
		e.post(t, "/twilio/inbound", in.Form(), "")
		thread := e.inbox(t, "acme")[0].ID
		m, err := e.svc.SendSMS(ctx, e.disp["acme"], conversations.SendSMS{Thread: thread, Body: "On our way"})
		if err != nil {
			t.Fatal(err)
		}
		e.waitCreates(t, 1)
		created := e.fake.Creates()[0]
		if created.Form.Get("From") != e.numbers["acme"] {
			t.Fatalf("sent from %q, want the business's number %q", created.Form.Get("From"), e.numbers["acme"])
		}
		callback := created.Form.Get("StatusCallback")
		if !strings.HasPrefix(callback, e2ePublicURL+"/twilio/status?") || !strings.Contains(callback, string(m.ID)) {
			t.Fatalf("status callback %q does not carry our message id", callback)
		}
		path := strings.TrimPrefix(callback, e2ePublicURL)
		for _, st := range []twiliotest.Status{
			{MessageSID: created.SID, From: e.numbers["acme"], To: "+15005550999", Status: "delivered", RawDlrDoneDate: "2611271432"},
			{MessageSID: created.SID, From: e.numbers["acme"], To: "+15005550999", Status: "sent"}, // late
		} {
			if code := e.post(t, path, st.Form(), ""); code != http.StatusOK {
				t.Fatalf("status callback %s answered %d", st.Status, code)
			}
		}
		got, err := db.GetMessage(ctx, e.tenants["acme"], m.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := time.Date(2026, 11, 27, 14, 32, 0, 0, time.UTC)
		if got.Status != conversations.StatusDelivered || !got.DeliveredAt.Equal(want) || got.SentAt.IsZero() || got.ProviderID != created.SID {
			t.Fatalf("status rule broken: %s delivered %v sent %v provider %q; want delivered at %v, a sent time, provider %q",
				got.Status, got.DeliveredAt, got.SentAt, got.ProviderID, want, created.SID)
		}
	})
}
