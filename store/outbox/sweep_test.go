package outbox_test

import (
	"context"
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

// TestStatusSweepSchedulesMissingChecks: a message accepted while status
// checks did not exist (its delivery job finished with the message still
// sending, and its callback lost) is found by the sweep at start and asked
// about until it is delivered; a message whose own check is pending gets no
// second job, and nothing is sent twice.
func TestStatusSweepSchedulesMissingChecks(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fake := twiliotest.NewServer(t)
		b := newBusiness(t, db)

		// Before: a channel that never asks, as deliveries ran before checks.
		old, err := outbox.New(ctx, db, append(fast(), outbox.WithStatusSweep(-1, time.Hour))...)
		require.NoError(t, err)
		require.NoError(t, old.Migrate(ctx))
		oldSvc, err := conversations.NewService(conversations.Config{
			Store: old.Store(), Policy: policy.Default(),
			Channels: []conversations.Channel{checkingTwilio(t, fake, -1)},
		})
		require.NoError(t, err)
		require.NoError(t, old.Start(ctx, oldSvc))
		m1, err := oldSvc.SendSMS(ctx, b.disp, conversations.SendSMS{Thread: b.thread, Body: "accepted before status checks"})
		require.NoError(t, err)
		m1 = waitDelivered(t, db, b.tenant, []conversations.MessageID{m1.ID}, 20*time.Second)[0]
		require.Equal(t, conversations.StatusSending, m1.Status, "Twilio's receipt says queued")
		stop, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		require.NoError(t, old.Stop(stop))
		require.NoError(t, fake.SetStatus(m1.ProviderID, "delivered", 0)) // and no callback

		// A message younger than the minimum age is left to its own job.
		strict, err := outbox.New(ctx, db, outbox.WithStatusSweep(-1, time.Hour))
		require.NoError(t, err)
		n, err := strict.SweepStatusChecks(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "by default the sweep leaves messages of the last 15 minutes alone")
		require.NoError(t, strict.Stop(ctx), "closes its listener")

		// After: the sweep runs at start.
		svc, ob := running(t, db, checkingTwilio(t, fake, 200*time.Millisecond), outbox.WithStatusSweep(time.Hour, time.Hour), outbox.WithStatusSweepMinAge(0))
		m2, err := svc.SendSMS(ctx, b.disp, conversations.SendSMS{Thread: b.thread, Body: "checked by its own job"})
		require.NoError(t, err)
		m2 = waitDelivered(t, db, b.tenant, []conversations.MessageID{m2.ID}, 20*time.Second)[0]
		require.False(t, m2.Status.Final(), "Twilio keeps it queued: its own job keeps asking")

		waitStatus(t, db, b.tenant, m1.ID, conversations.StatusDelivered, 20*time.Second)
		n, err = ob.SweepStatusChecks(ctx)
		require.NoError(t, err)
		assert.Zero(t, n, "the delivered message and the one with its own pending check need no job")
		assert.Len(t, fake.Creates(), 2, "asking never sends again")
	})
}

// TestStatusSweepOptions: a zero schedule or window, or a minimum age
// outside [0, window), is a typed error.
func TestStatusSweepOptions(t *testing.T) {
	db := testdb.SQLite(t)
	for _, o := range []outbox.Option{outbox.WithStatusSweep(0, time.Hour), outbox.WithStatusSweep(time.Hour, 0),
		outbox.WithStatusSweepMinAge(-time.Second), outbox.WithStatusSweepMinAge(100 * time.Hour)} {
		_, err := outbox.New(context.Background(), db, o)
		assert.ErrorIs(t, err, conversations.ErrInvalid)
	}
}
