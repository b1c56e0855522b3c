package outbox_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
	"github.com/fieldtalk/fieldtalk/store/outbox"
)

// paced is a Service whose Outbox delivers through the fake and paces with
// the rates in the database.
func paced(t *testing.T, db *store.DB, fake *twiliotest.Server) (*conversations.Service, *outbox.Outbox) {
	t.Helper()
	ctx := context.Background()
	ob, err := outbox.New(ctx, db, fast()...)
	require.NoError(t, err)
	require.NoError(t, ob.Migrate(ctx))
	svc, err := conversations.NewService(conversations.Config{
		Store: ob.Store(), Policy: policy.Default(), Pacer: ob, Channels: []conversations.Channel{newTwilio(t, fake)},
	})
	require.NoError(t, err)
	require.NoError(t, ob.Start(ctx, svc))
	return svc, ob
}

func stopOutbox(t *testing.T, ob *outbox.Outbox) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, ob.Stop(ctx))
}

// createdAt is when the fake Twilio accepted each create, in order.
func createdAt(t *testing.T, fake *twiliotest.Server) []time.Time {
	t.Helper()
	var out []time.Time
	for _, c := range fake.Creates() {
		m, ok := fake.Message(c.SID)
		require.True(t, ok)
		out = append(out, m.DateCreated)
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// TestTechnicianReplyGoesAheadOfAWorkflowBurst: 200 automated messages
// from one number paced at 2 a second, then a technician's reply from the
// same number: the reply goes out within the next few sends (about a
// second), not behind the burst, and the number never sends faster than
// its pace.
func TestTechnicianReplyGoesAheadOfAWorkflowBurst(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fake := twiliotest.NewServer(t)
		b := newBusiness(t, db)
		svc, ob := paced(t, db, fake)
		t.Cleanup(func() { stopOutbox(t, ob) })
		const perSecond = 2
		start := time.Now()
		require.NoError(t, ob.SetPace(ctx, b.tenant, b.number, perSecond))
		for i := range 200 {
			_, err := svc.SendWorkflow(ctx, conversations.WorkflowMessage{Tenant: b.tenant, Channel: conversations.ChannelSMS,
				Contact: conversations.Contact{Phone: fmt.Sprintf("+1500777%04d", i)}, Body: fmt.Sprintf("Reminder %d", i), Key: fmt.Sprintf("wf-%d", i)})
			require.NoError(t, err)
		}
		for len(fake.Creates()) < 2 { // the burst is going out
			time.Sleep(20 * time.Millisecond)
		}
		before := len(fake.Creates())
		require.Less(t, before, 150, "the burst is still waiting when the technician replies")
		reply, err := svc.SendSMS(ctx, b.disp, conversations.SendSMS{Thread: b.thread, Body: "On my way, 10 minutes"})
		require.NoError(t, err)
		reply = waitDelivered(t, db, b.tenant, []conversations.MessageID{reply.ID}, 60*time.Second)[0]

		creates := fake.Creates() // before the clock is read, for the rate below
		pos := slices.IndexFunc(creates, func(c twiliotest.Created) bool { return c.SID == reply.ProviderID })
		require.GreaterOrEqual(t, pos, 0)
		assert.LessOrEqual(t, pos-before, 3, "pacing rule broken: the technician's reply waited behind %d sends of the workflow burst", pos-before)
		for _, c := range creates {
			assert.Equal(t, b.number, c.Form.Get("From"))
		}
		// Queueing delays can bunch the fake's arrivals, never add sends:
		// no more than one per slot since the pace was set.
		assert.LessOrEqual(t, float64(len(creates)), perSecond*time.Since(start).Seconds()+1,
			"pacing rule broken: %d sends of one number in %s", len(creates), time.Since(start))
	})
}

// TestPacingSurvivesARestart: the pace and the number's next slot are in
// the database: an outbox started after another stopped keeps to both.
func TestPacingSurvivesARestart(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fake := twiliotest.NewServer(t)
		b := newBusiness(t, db)
		svc, ob := paced(t, db, fake)
		const interval = 2 * time.Second
		require.NoError(t, ob.SetPace(ctx, b.tenant, b.number, 0.5))
		first, err := svc.SendSMS(ctx, b.disp, conversations.SendSMS{Thread: b.thread, Body: "before the restart"})
		require.NoError(t, err)
		waitDelivered(t, db, b.tenant, []conversations.MessageID{first.ID}, 30*time.Second)
		stopOutbox(t, ob)

		svc, ob = paced(t, db, fake) // a new process's outbox: nothing in memory
		t.Cleanup(func() { stopOutbox(t, ob) })
		var ids []conversations.MessageID
		for i := range 2 {
			m, err := svc.SendSMS(ctx, b.disp, conversations.SendSMS{Thread: b.thread, Body: fmt.Sprintf("after the restart %d", i)})
			require.NoError(t, err)
			ids = append(ids, m.ID)
		}
		waitDelivered(t, db, b.tenant, ids, 30*time.Second)
		at := createdAt(t, fake)
		require.Len(t, at, 3)
		// Measured where the provider sees them: a send that left late (a
		// loaded machine) shortens the gap after it, so the rule is held
		// from the first send on (send i no sooner than i intervals after
		// it), with half an interval of leeway per pair. Unpaced, the three
		// arrive within milliseconds and both checks fail.
		for i := 1; i < len(at); i++ {
			assert.GreaterOrEqual(t, at[i].Sub(at[0]), time.Duration(i)*interval*9/10, "pacing rule broken across a restart: send %d %s after the first", i+1, at[i].Sub(at[0]))
			assert.GreaterOrEqual(t, at[i].Sub(at[i-1]), interval/2, "pacing rule broken across a restart: sends %d and %d %s apart", i, i+1, at[i].Sub(at[i-1]))
		}
	})
}

func TestSetPaceIsChecked(t *testing.T) {
	db := testdb.SQLite(t)
	ob, err := outbox.New(context.Background(), db)
	require.NoError(t, err)
	for _, rate := range []float64{-1, 2e6} {
		assert.ErrorIs(t, ob.SetPace(context.Background(), "t", "+15005550001", rate), conversations.ErrInvalid, "rate %v", rate)
	}
	assert.ErrorIs(t, ob.SetPace(context.Background(), "", "+15005550001", 1), conversations.ErrInvalid)
}
