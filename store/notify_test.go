package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/store"
)

func note(tenant conversations.TenantID, staff conversations.StaffID, thread string, badge int64) conversations.Notification {
	return conversations.Notification{
		Tenant: tenant, Recipient: staff, Type: conversations.EventMessage,
		Thread: conversations.ThreadID(thread), Badge: badge,
	}
}

func TestNotificationLogRoundTrip(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 3, 1, 9, 30, 0, 123456000, time.UTC)
		msg := conversations.Message{
			ID: "m1", Tenant: "t1", Thread: "th1", Seq: 7, Kind: conversations.KindCustomerSMS,
			Direction: conversations.DirectionInbound, Channel: conversations.ChannelSMS,
			AuthorType: conversations.AuthorCustomer, Body: "Gate code is 1234 ✓",
			Media:  []conversations.Media{{URL: "https://example.com/a.jpg", ContentType: "image/jpeg"}},
			Source: conversations.SourceProvider, From: "+15005550006", To: "+15005550001",
			CreatedAt: at, Status: conversations.StatusReceived, ProviderID: "SM1",
		}
		in := conversations.Notification{
			ID: "ignored", Tenant: "t1", Recipient: "dana", Type: conversations.EventMessage, Thread: "th1",
			Message: &msg, Badge: 3, Urgent: true, At: at,
		}
		got, err := db.AppendNotification(ctx, in)
		require.NoError(t, err)
		assert.NotEqual(t, "ignored", got.ID, "the log assigns the id")
		read := conversations.Notification{Tenant: "t1", Recipient: "dana", Type: conversations.EventRead, Thread: "th1", ReadSeq: 7, At: at.Add(time.Second)}
		got2, err := db.AppendNotification(ctx, read)
		require.NoError(t, err)
		assert.Less(t, got.ID, got2.ID, "ids sort in the order they were issued")

		all, err := db.NotificationsSince(ctx, "t1", "dana", "", 0)
		require.NoError(t, err)
		require.Len(t, all, 2)
		want := in
		want.ID = got.ID
		assert.Equal(t, want, all[0], "a notification comes back as it was logged")
		want2 := read
		want2.ID = got2.ID
		assert.Equal(t, want2, all[1])

		latest, err := db.LatestNotificationID(ctx, "t1", "dana")
		require.NoError(t, err)
		assert.Equal(t, got2.ID, latest)
	})
}

func TestNotificationLogPositions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var ids []string
		for i := range 5 {
			n, err := db.AppendNotification(ctx, note("t1", "dana", fmt.Sprint("th", i), int64(i)))
			require.NoError(t, err)
			ids = append(ids, n.ID)
			// Other recipients and tenants interleave; they have logs of their own.
			_, err = db.AppendNotification(ctx, note("t1", "tom", "x", 0))
			require.NoError(t, err)
			_, err = db.AppendNotification(ctx, note("t2", "dana", "y", 0))
			require.NoError(t, err)
		}

		page, err := db.NotificationsSince(ctx, "t1", "dana", ids[1], 2)
		require.NoError(t, err)
		assert.Equal(t, ids[2:4], idsOf(page), "a page starts right after afterID and holds at most limit")
		for _, n := range page {
			assert.Equal(t, conversations.StaffID("dana"), n.Recipient)
			assert.Equal(t, conversations.TenantID("t1"), n.Tenant)
		}
		rest, err := db.NotificationsSince(ctx, "t1", "dana", ids[4], 0)
		require.NoError(t, err)
		assert.Empty(t, rest, "after the newest there is nothing, and that is not an error")

		none, err := db.NotificationsSince(ctx, "t3", "nobody", "", 0)
		require.NoError(t, err)
		assert.Empty(t, none, "a recipient with no notifications has an empty log")
		latest, err := db.LatestNotificationID(ctx, "t3", "nobody")
		require.NoError(t, err)
		assert.NotEmpty(t, latest, "before the first notification there is a position to start from")
		assert.Less(t, latest, ids[0])
		_, err = db.NotificationsSince(ctx, "t3", "nobody", ids[0], 0)
		assert.ErrorIs(t, err, conversations.ErrNotFound, "another recipient's id cannot be continued from")
		none, err = db.NotificationsSince(ctx, "t3", "nobody", latest, 0)
		require.NoError(t, err)
		assert.Empty(t, none)
		n, err := db.AppendNotification(ctx, note("t3", "nobody", "z", 0))
		require.NoError(t, err)
		firstSince, err := db.NotificationsSince(ctx, "t3", "nobody", latest, 0)
		require.NoError(t, err)
		assert.Equal(t, []string{n.ID}, idsOf(firstSince), "the position before the first continues to the first")

		_, err = db.NotificationsSince(ctx, "t1", "dana", "9"+ids[4][1:], 0)
		assert.ErrorIs(t, err, conversations.ErrNotFound, "an id never issued cannot be continued from")
		for _, bad := range []string{"abc", "-1", "1e3", "12345678901234567890"} {
			_, err = db.NotificationsSince(ctx, "t1", "dana", bad, 0)
			assert.ErrorIs(t, err, conversations.ErrInvalid, "malformed id %q", bad)
		}
		_, err = db.NotificationsSince(ctx, "t1", "dana", "", store.MaxNotificationsPage+1)
		assert.ErrorIs(t, err, conversations.ErrInvalid, "a page over the maximum")
		_, err = db.AppendNotification(ctx, conversations.Notification{Tenant: "t1", Type: conversations.EventMessage})
		assert.ErrorIs(t, err, conversations.ErrInvalid, "a notification without a recipient")
	})
}

func idsOf(ns []conversations.Notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

func TestNotificationLogPrune(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var ids []string
		for i := range 4 {
			n := note("t1", "dana", "th", 0)
			n.At = old.Add(time.Duration(i) * time.Hour)
			got, err := db.AppendNotification(ctx, n)
			require.NoError(t, err)
			ids = append(ids, got.ID)
		}
		other := note("t2", "tom", "th", 0)
		other.At = old
		_, err := db.AppendNotification(ctx, other)
		require.NoError(t, err)

		n, err := db.PruneNotifications(ctx, old.Add(2*time.Hour))
		require.NoError(t, err)
		assert.EqualValues(t, 3, n, "prunes what is older than the cut, in every tenant")

		kept, err := db.NotificationsSince(ctx, "t1", "dana", ids[1], 0)
		require.NoError(t, err)
		assert.Equal(t, ids[2:], idsOf(kept), "continuing from the last pruned id still works")
		_, err = db.NotificationsSince(ctx, "t1", "dana", ids[0], 0)
		assert.ErrorIs(t, err, conversations.ErrNotFound, "what followed this id was pruned")
		_, err = db.NotificationsSince(ctx, "t1", "dana", "", 0)
		assert.ErrorIs(t, err, conversations.ErrNotFound, "the start of the log was pruned")
		_, err = db.NotificationsSince(ctx, "t2", "tom", "", 0)
		assert.ErrorIs(t, err, conversations.ErrNotFound, "a log pruned empty cannot be read from its start")

		next, err := db.AppendNotification(ctx, note("t1", "dana", "th", 0))
		require.NoError(t, err)
		assert.Greater(t, next.ID, ids[3], "pruning never makes an id be issued again")
	})
}

// Concurrent appends for one recipient get dense ids, and a reader that
// follows the log from its last id never sees a gap: a notification that
// commits late can never have a smaller id than one already read.
func TestNotificationLogConcurrentAppendsAreGapless(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		const writers, each = 4, 15
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					if _, err := db.AppendNotification(ctx, note("t1", "dana", fmt.Sprintf("w%d-%d", w, i), 0)); err != nil {
						errs <- err
					}
				}
			}()
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()

		var seen []string
		cursor := ""
		for finished := false; !finished; {
			select {
			case <-done:
				finished = true // one more read picks up the last commits
			default:
			}
			page, err := db.NotificationsSince(ctx, "t1", "dana", cursor, 0)
			require.NoError(t, err, "a reader following the log never meets a gap")
			for _, n := range page {
				seen = append(seen, n.ID)
				cursor = n.ID
			}
		}
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Len(t, seen, writers*each, "every notification is read exactly once")
		for i := 1; i < len(seen); i++ {
			assert.Less(t, seen[i-1], seen[i])
		}
	})
}

func TestNotificationLogHonoursContext(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := db.AppendNotification(ctx, note("t1", "dana", "th", 0))
		require.Error(t, err)
		assert.True(t, errors.Is(err, context.Canceled), "the cancellation is in the chain: %v", err)
	})
}

// A notification with a cause is logged once per recipient, also when
// appends of the same cause race, and a refused repeat leaves no gap in the
// recipient's numbers.
func TestNotificationLogKeepsOnePerCause(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tenant := conversations.NewID[conversations.TenantID]()
		first, err := db.AppendNotification(ctx, note(tenant, "dana", "th1", 1))
		require.NoError(t, err)

		const racers = 8
		ids := make([]string, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n := note(tenant, "dana", "th1", int64(10+i))
				n.Cause = "m-1"
				got, err := db.AppendNotification(ctx, n)
				assert.NoError(t, err)
				ids[i] = got.ID
			}()
		}
		wg.Wait()
		for _, id := range ids {
			assert.Equal(t, ids[0], id, "every repeat of a cause answers the one logged")
		}
		other := note(tenant, "tom", "th1", 1)
		other.Cause = "m-1"
		_, err = db.AppendNotification(ctx, other)
		require.NoError(t, err, "another recipient of the same cause is logged")

		after, err := db.AppendNotification(ctx, note(tenant, "dana", "th1", 2))
		require.NoError(t, err)
		ns, err := db.NotificationsSince(ctx, tenant, "dana", first.ID, 0)
		require.NoError(t, err, "no gap: the refused repeats did not use up numbers")
		require.Len(t, ns, 2, "the cause once, then the next")
		assert.Equal(t, ids[0], ns[0].ID)
		assert.Equal(t, conversations.MessageID("m-1"), ns[0].Cause)
		assert.Equal(t, after.ID, ns[1].ID)
	})
}
