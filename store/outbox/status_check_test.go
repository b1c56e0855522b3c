package outbox_test

import (
	"context"
	"strings"
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

// checkingTwilio is a Twilio channel on the fake that asks for a message's
// status checkAfter after its last change.
func checkingTwilio(t *testing.T, fake *twiliotest.Server, checkAfter time.Duration) *twilio.Channel {
	t.Helper()
	ch, err := twilio.New(twilio.Config{AccountSID: fake.AccountSID(), AuthToken: fake.AuthToken(), Timeout: 2 * time.Second, StatusCheckAfter: checkAfter},
		twilio.WithBaseURL(fake.URL()))
	require.NoError(t, err)
	return ch
}

// waitStatus waits until the message has status want.
func waitStatus(t *testing.T, db *store.DB, tenant conversations.TenantID, id conversations.MessageID, want conversations.Status, within time.Duration) conversations.Message {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		m, err := db.GetMessage(context.Background(), tenant, id)
		require.NoError(t, err)
		if m.Status == want {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("true-final-status rule broken: the message is %s (%s), not %s, after %s", m.Status, m.ErrorReason, want, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLostCallbackIsMadeUpByAsking: the fake Twilio never calls back; the
// delivery asks for the status and brings the message to delivered, and a
// message Twilio keeps queued to the undelivered Twilio finally reports.
func TestLostCallbackIsMadeUpByAsking(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fake := twiliotest.NewServer(t)
		b := newBusiness(t, db)
		svc, _ := running(t, db, checkingTwilio(t, fake, 300*time.Millisecond))
		send := func(body string) conversations.Message {
			m, err := svc.SendSMS(ctx, b.disp, conversations.SendSMS{Thread: b.thread, Body: body})
			require.NoError(t, err)
			return waitDelivered(t, db, b.tenant, []conversations.MessageID{m.ID}, 20*time.Second)[0]
		}
		lost := send("its delivered callback is lost")
		queued := send("stays queued at Twilio for a while")
		require.Equal(t, conversations.StatusSending, lost.Status, "Twilio's receipt says queued")

		require.NoError(t, fake.SetStatus(lost.ProviderID, "delivered", 0)) // and no callback
		m := waitStatus(t, db, b.tenant, lost.ID, conversations.StatusDelivered, 20*time.Second)
		assert.False(t, m.DeliveredAt.IsZero(), "delivered keeps its time")

		time.Sleep(time.Second) // a few checks find it still queued
		require.NoError(t, fake.SetStatus(queued.ProviderID, "undelivered", 30003))
		m = waitStatus(t, db, b.tenant, queued.ID, conversations.StatusUndelivered, 20*time.Second)
		assert.Equal(t, "30003", m.ErrorCode)
		assert.Len(t, fake.Creates(), 2, "asking never sends again")
	})
}

// TestStatusChecksStopAfterTheirBound: a message Twilio never finishes
// keeps the status it last reported once StatusCheckFor has passed, and is
// asked about no more.
func TestStatusChecksStopAfterTheirBound(t *testing.T) {
	db := testdb.SQLite(t)
	ctx := context.Background()
	fake := twiliotest.NewServer(t)
	b := newBusiness(t, db)
	ob, err := outbox.New(ctx, db, fast()...)
	require.NoError(t, err)
	require.NoError(t, ob.Migrate(ctx))
	svc, err := conversations.NewService(conversations.Config{
		Store: ob.Store(), Policy: policy.Default(), StatusCheckFor: 2 * time.Second,
		Channels: []conversations.Channel{checkingTwilio(t, fake, 200*time.Millisecond)},
	})
	require.NoError(t, err)
	require.NoError(t, ob.Start(ctx, svc))
	t.Cleanup(func() { assert.NoError(t, ob.Stop(context.Background())) })

	m, err := svc.SendSMS(ctx, b.disp, conversations.SendSMS{Thread: b.thread, Body: "sent, never delivered"})
	require.NoError(t, err)
	m = waitDelivered(t, db, b.tenant, []conversations.MessageID{m.ID}, 20*time.Second)[0]
	require.NoError(t, fake.SetStatus(m.ProviderID, "sent", 0))
	waitStatus(t, db, b.tenant, m.ID, conversations.StatusSent, 20*time.Second)

	time.Sleep(4 * time.Second) // past the bound, plus the longest wait between checks
	asked := fake.Requests()
	time.Sleep(2 * time.Second)
	assert.Equal(t, asked, fake.Requests(), "the checks stopped once StatusCheckFor had passed")
	m, err = db.GetMessage(ctx, b.tenant, m.ID)
	require.NoError(t, err)
	assert.Equal(t, conversations.StatusSent, m.Status, "the message keeps what Twilio last reported")
}

// TestUnconfirmableSendEndsUnknown: the send's answer is lost and every
// lookup fails until the retry budget ends: the message is unknown, "may
// have been sent", never failed, and is not sent a second time.
func TestUnconfirmableSendEndsUnknown(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fake := twiliotest.NewServer(t)
		b := newBusiness(t, db)
		fake.Fail(1, twiliotest.Drop())          // Twilio has it; the answer is lost
		fake.Fail(100, twiliotest.ServerError()) // and every lookup after fails
		svc, _ := running(t, db, newTwilio(t, fake), outbox.WithMaxAttempts(3))
		m, err := svc.SendSMS(ctx, b.disp, conversations.SendSMS{Thread: b.thread, Body: "did it go?"})
		require.NoError(t, err)
		m = waitStatus(t, db, b.tenant, m.ID, conversations.StatusUnknown, 30*time.Second)
		assert.True(t, strings.HasPrefix(m.ErrorReason, conversations.ReasonMaybeSent), "the reason says it may have been sent: %q", m.ErrorReason)
		assert.True(t, m.FailedAt.IsZero(), "unknown is not a failure")
		assert.Len(t, fake.Creates(), 1, "no second send while the first may have gone out")
	})
}
