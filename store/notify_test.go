package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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

// A batch is logged as the same notifications appended one at a time would
// be: the same ids per recipient, in order, each cause once, and the log
// reads back the same, on every database (one statement per business on
// PostgreSQL and Citus). Randomized: recipients, businesses, causes new,
// repeated within the batch and logged before.
func TestNotificationLogBatchEqualsOneAtATime(t *testing.T) {
	testdb.EachDistributed(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seed := time.Now().UnixNano()
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		t.Logf("seed %d", seed)
		at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		tenants := []conversations.TenantID{"t1", "t2"}
		staff := []conversations.StaffID{"ann", "bob", "cy"}
		draw := func(round int) []conversations.Notification {
			ns := make([]conversations.Notification, 1+r.IntN(12))
			for i := range ns {
				n := note(tenants[r.IntN(2)], staff[r.IntN(3)], fmt.Sprint("th", r.IntN(4)), int64(r.IntN(9)))
				n.At = at.Add(time.Duration(round*100+i) * time.Second)
				if r.IntN(3) > 0 {
					n.Cause = conversations.MessageID(fmt.Sprint("m", r.IntN(round*4+6)))
				}
				ns[i] = n
			}
			return ns
		}
		// want: what one-at-a-time appends give, on a model of the log.
		type key struct {
			t conversations.TenantID
			s conversations.StaffID
		}
		last := map[key]int64{}
		causes := map[[3]string]string{}
		for round := range 6 {
			ns := draw(round)
			got, err := db.AppendNotifications(ctx, ns)
			require.NoError(t, err)
			require.Len(t, got, len(ns))
			for i, n := range ns {
				k := key{n.Tenant, n.Recipient}
				ck := [3]string{string(n.Tenant), string(n.Recipient), string(n.Cause)}
				want, ok := causes[ck]
				if n.Cause == "" || !ok {
					last[k]++
					want = fmt.Sprintf("%016d", last[k])
					if n.Cause != "" {
						causes[ck] = want
					}
				}
				assert.Equal(t, want, got[i].ID, "round %d, notification %d (%s/%s cause %q)", round, i, n.Tenant, n.Recipient, n.Cause)
				n.ID = got[i].ID
				assert.Equal(t, n, got[i], "a batch returns what it was given, with ids")
			}
		}
		for _, tn := range tenants {
			for _, s := range staff {
				all, err := db.NotificationsSince(ctx, tn, s, "", 0)
				require.NoError(t, err)
				require.Len(t, all, int(last[key{tn, s}]), "%s/%s: every notification once, no gap", tn, s)
			}
		}
	})
}

// One invalid notification in a batch logs none of it.
func TestNotificationLogBatchIsCheckedFirst(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_, err := db.AppendNotifications(ctx, []conversations.Notification{note("t1", "dana", "th", 1), {Tenant: "t1", Type: conversations.EventBadge}})
		require.ErrorIs(t, err, conversations.ErrInvalid)
		assert.Contains(t, err.Error(), "notifications[1]: ")
		assert.Contains(t, err.Error(), "notification.recipient")
		latest, err := db.LatestNotificationID(ctx, "t1", "dana")
		require.NoError(t, err)
		all, err := db.NotificationsSince(ctx, "t1", "dana", "", 0)
		require.NoError(t, err)
		assert.Empty(t, all, "nothing was logged")
		assert.Equal(t, fmt.Sprintf("%016d", 0), latest)
		got, err := db.AppendNotifications(ctx, nil)
		require.NoError(t, err)
		assert.Empty(t, got)
	})
}
