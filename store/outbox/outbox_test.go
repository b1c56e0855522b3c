package outbox_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/channel/twilio"
	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
	"github.com/fieldtalk/fieldtalk/store/outbox"
)

// fast makes retries and polling quick enough for tests.
func fast() []outbox.Option {
	return []outbox.Option{
		outbox.WithBackoff(20*time.Millisecond, 200*time.Millisecond),
		outbox.WithPollInterval(50 * time.Millisecond),
		outbox.WithJobTimeout(3 * time.Second),
		outbox.WithRescueAfter(3 * time.Second),
		outbox.WithFanOutSweep(200*time.Millisecond, time.Second),
	}
}

var numbers atomic.Int64

// business is one tenant with a dispatcher and a customer thread, on db.
type business struct {
	tenant conversations.TenantID
	disp   conversations.Viewer
	thread conversations.ThreadID
	number string
}

// newBusiness sets up a business through a Service with no outbox (setup
// sends nothing).
func newBusiness(t *testing.T, db *store.DB) business {
	t.Helper()
	ctx := context.Background()
	svc, err := conversations.NewService(conversations.Config{Store: db, Policy: policy.Default()})
	require.NoError(t, err)
	b := business{tenant: conversations.NewID[conversations.TenantID](), number: fmt.Sprintf("+1500666%04d", numbers.Add(1))}
	st := conversations.Staff{Tenant: b.tenant, ID: "dana", Name: "Dana", Role: conversations.RoleDispatcher}
	require.NoError(t, svc.PutStaff(ctx, st))
	b.disp = st.Viewer()
	require.NoError(t, svc.ProvisionNumber(ctx, conversations.BusinessNumber{Tenant: b.tenant, Number: b.number, Default: true}))
	m, _, err := svc.Receive(ctx, conversations.InboundMessage{
		Tenant: b.tenant, Channel: conversations.ChannelSMS, BusinessNumber: b.number,
		From: "+15005550999", Body: "When are you coming?", ProviderID: "SM" + string(b.tenant),
	})
	require.NoError(t, err)
	b.thread = m.Thread
	return b
}

// newTwilio returns a Twilio channel talking to the fake.
func newTwilio(t testing.TB, fake *twiliotest.Server) *twilio.Channel {
	t.Helper()
	ch, err := twilio.New(twilio.Config{AccountSID: fake.AccountSID(), AuthToken: fake.AuthToken(), Timeout: 2 * time.Second},
		twilio.WithBaseURL(fake.URL()))
	require.NoError(t, err)
	return ch
}

// running is a Service with a started Outbox delivering through ch.
func running(t *testing.T, db *store.DB, ch conversations.Channel, opts ...outbox.Option) (*conversations.Service, *outbox.Outbox) {
	t.Helper()
	ctx := context.Background()
	ob, err := outbox.New(ctx, db, append(fast(), opts...)...)
	require.NoError(t, err)
	require.NoError(t, ob.Migrate(ctx))
	svc, err := conversations.NewService(conversations.Config{
		Store: ob.Store(), Policy: policy.Default(), Channels: []conversations.Channel{ch},
	})
	require.NoError(t, err)
	require.NoError(t, ob.Start(ctx, svc))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, ob.Stop(ctx))
	})
	return svc, ob
}

// waitDelivered waits until every message has left the queue: accepted by
// the provider (it has a provider id) or finished.
func waitDelivered(t *testing.T, db *store.DB, tenant conversations.TenantID, ids []conversations.MessageID, within time.Duration) []conversations.Message {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		out := make([]conversations.Message, 0, len(ids))
		for _, id := range ids {
			m, err := db.GetMessage(context.Background(), tenant, id)
			require.NoError(t, err)
			if m.ProviderID == "" && !m.Status.Final() {
				break
			}
			out = append(out, m)
		}
		if len(out) == len(ids) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("durable delivery rule broken: only %d of %d messages left the queue within %s", len(out), len(ids), within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// createsPerBody counts the fake Twilio's accepted creates per body.
func createsPerBody(fake *twiliotest.Server) map[string]int {
	n := map[string]int{}
	for _, c := range fake.Creates() {
		n[c.Form.Get("Body")]++
	}
	return n
}

func TestDeliversEachMessageOnce(t *testing.T) {
	testdb.EachDistributed(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fake := twiliotest.NewServer(t)
		b := newBusiness(t, db)
		svc, _ := running(t, db, newTwilio(t, fake))
		var ids []conversations.MessageID
		for i := range 20 {
			m, err := svc.SendSMS(ctx, b.disp, conversations.SendSMS{Thread: b.thread, Body: fmt.Sprintf("update %d", i), ClientID: fmt.Sprintf("c%d", i)})
			require.NoError(t, err)
			ids = append(ids, m.ID)
		}
		for _, m := range waitDelivered(t, db, b.tenant, ids, 30*time.Second) {
			assert.NotEmpty(t, m.ProviderID, "the provider's id is recorded")
			assert.Equal(t, conversations.StatusSending, m.Status, "accepted by the provider, waiting for its callback")
		}
		per := createsPerBody(fake)
		assert.Len(t, per, 20)
		for body, n := range per {
			assert.Equal(t, 1, n, "exactly-once rule broken for %q", body)
		}
		for _, c := range fake.Creates() {
			assert.Equal(t, b.number, c.Form.Get("From"), "sent from the business's number")
		}
	})
}

func TestSurvivesAProviderOutage(t *testing.T) {
	testdb.EachDistributed(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fake := twiliotest.NewServer(t)
		b := newBusiness(t, db)
		// The provider answers an HTML 503 (outcome unknown) to the next 15 calls,
		// then 500s, then recovers.
		fake.Fail(15, twiliotest.HTMLUnavailable())
		fake.Fail(5, twiliotest.ServerError())
		svc, _ := running(t, db, newTwilio(t, fake))
		var ids []conversations.MessageID
		for i := range 10 {
			m, err := svc.SendSMS(ctx, b.disp, conversations.SendSMS{Thread: b.thread, Body: fmt.Sprintf("outage %d", i)})
			require.NoError(t, err)
			ids = append(ids, m.ID)
		}
		for _, m := range waitDelivered(t, db, b.tenant, ids, 60*time.Second) {
			assert.NotEmpty(t, m.ProviderID, "nothing accepted is lost: %s ended %s (%s)", m.Body, m.Status, m.ErrorReason)
		}
		per := createsPerBody(fake)
		assert.Len(t, per, 10)
		for body, n := range per {
			assert.Equal(t, 1, n, "exactly-once rule broken for %q after the outage", body)
		}
	})
}

func TestRateLimitHonoursRetryAfter(t *testing.T) {
	db := testdb.SQLite(t)
	ctx := context.Background()
	fake := twiliotest.NewServer(t)
	b := newBusiness(t, db)
	fake.Fail(1, twiliotest.RateLimit(time.Second))
	svc, _ := running(t, db, newTwilio(t, fake))
	start := time.Now()
	m, err := svc.SendSMS(ctx, b.disp, conversations.SendSMS{Thread: b.thread, Body: "after the limit"})
	require.NoError(t, err)
	waitDelivered(t, db, b.tenant, []conversations.MessageID{m.ID}, 20*time.Second)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "the retry waited for Retry-After, not the 20ms backoff")
}

func TestEnqueueNeedsTheMessagesTransaction(t *testing.T) {
	db := testdb.SQLite(t)
	ob, err := outbox.New(context.Background(), db, fast()...)
	require.NoError(t, err)
	err = ob.Enqueue(context.Background(), db, conversations.Delivery{Tenant: "t", Message: "m"})
	assert.Error(t, err, "an enqueue outside the message's transaction could commit without it")
}

func TestOptionsAreChecked(t *testing.T) {
	db := testdb.SQLite(t)
	for _, opt := range []outbox.Option{
		outbox.WithMaxAttempts(0), outbox.WithWorkers(0), outbox.WithBackoff(0, time.Second),
		outbox.WithBackoff(time.Minute, time.Second), outbox.WithPollInterval(0),
	} {
		_, err := outbox.New(context.Background(), db, opt)
		assert.ErrorIs(t, err, conversations.ErrInvalid)
	}
	_, err := outbox.New(context.Background(), db, outbox.WithJobTimeout(time.Minute), outbox.WithRescueAfter(time.Second))
	assert.ErrorIs(t, err, conversations.ErrInvalid)
}

// recordingDeliverer notes when each delivery ran.
type recordingDeliverer struct {
	ran chan time.Time
}

func (r recordingDeliverer) Deliver(_ context.Context, _ conversations.DeliverAttempt) error {
	r.ran <- time.Now()
	return nil
}

func TestScheduledDeliveryWaits(t *testing.T) {
	testdb.EachDistributed(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ob, err := outbox.New(ctx, db, fast()...)
		require.NoError(t, err)
		require.NoError(t, ob.Migrate(ctx))
		rec := recordingDeliverer{ran: make(chan time.Time, 2)}
		require.NoError(t, ob.Start(ctx, rec))
		t.Cleanup(func() { _ = ob.Stop(context.Background()) })
		notBefore := time.Now().Add(1500 * time.Millisecond)
		require.NoError(t, db.Tx(ctx, func(tx conversations.Store) error {
			return ob.Enqueue(ctx, tx, conversations.Delivery{Tenant: "t", Message: "m1", NotBefore: notBefore})
		}))
		require.NoError(t, db.Tx(ctx, func(tx conversations.Store) error {
			return ob.Enqueue(ctx, tx, conversations.Delivery{Tenant: "t", Message: "m1", NotBefore: notBefore})
		}), "a second enqueue of the same delivery is a no-op")
		select {
		case at := <-rec.ran:
			assert.False(t, at.Before(notBefore), "a delivery for after quiet hours ran %v early", notBefore.Sub(at))
		case <-time.After(20 * time.Second):
			t.Fatal("the scheduled delivery never ran")
		}
		select {
		case <-rec.ran:
			t.Fatal("the same delivery ran twice")
		case <-time.After(300 * time.Millisecond):
		}
	})
}
