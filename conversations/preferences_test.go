package conversations_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/store"
)

// to returns the one notification of ns for staff (failing when not one).
func to(t *testing.T, ns []conversations.Notification, staff conversations.StaffID) conversations.Notification {
	t.Helper()
	var out []conversations.Notification
	for _, n := range ns {
		if n.Recipient == staff {
			out = append(out, n)
		}
	}
	require.Len(t, out, 1, "one notification for %s in %+v", staff, ns)
	return out[0]
}

func TestPreferencesAreValidatedAndSynced(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		p, err := w.svc.Preferences(ctx, w.tech1)
		require.NoError(t, err)
		assert.Equal(t, conversations.PushDefault, p.Push, "the defaults for someone who saved nothing")
		assert.Empty(t, p.Muted)

		for _, bad := range []struct {
			name string
			p    conversations.Preferences
			is   error
		}{
			{"a technician may not ask for every customer message", conversations.Preferences{Push: conversations.PushAll}, conversations.ErrInvalid},
			{"unknown push mode", conversations.Preferences{Push: "sometimes"}, conversations.ErrInvalid},
			{"unknown preview", conversations.Preferences{Preview: "partial"}, conversations.ErrInvalid},
			{"quiet hours without a time zone", conversations.Preferences{Quiet: conversations.QuietHours{Start: "22:00", End: "07:00"}}, conversations.ErrInvalid},
			{"quiet hours malformed", conversations.Preferences{Quiet: conversations.QuietHours{Start: "25:00", End: "07:00", TimeZone: "UTC"}}, conversations.ErrInvalid},
			{"a control character in the time zone", conversations.Preferences{Quiet: conversations.QuietHours{Start: "22:00", End: "07:00", TimeZone: "UTC\x00"}}, conversations.ErrInvalid},
			{"someone else's preferences", conversations.Preferences{Staff: w.tech2.Staff}, conversations.ErrForbidden},
			{"another business's", conversations.Preferences{Tenant: "other"}, conversations.ErrForbidden},
		} {
			_, err := w.svc.SetPreferences(ctx, w.tech1, bad.p)
			assert.ErrorIs(t, err, bad.is, bad.name)
		}
		_, err = w.svc.SetPreferences(ctx, conversations.Viewer{Tenant: w.tenant, Staff: "x", Role: "boss"}, conversations.Preferences{})
		assert.ErrorIs(t, err, conversations.ErrInvalid, "an invalid viewer")
		p, err = w.svc.Preferences(ctx, w.tech1)
		require.NoError(t, err)
		assert.Equal(t, conversations.PushDefault, p.Push, "a bad input changes nothing")
		assert.Empty(t, w.notes.take(), "and tells nobody")

		want := conversations.Preferences{Push: conversations.PushUrgent, Preview: conversations.PreviewHidden,
			Quiet: conversations.QuietHours{Start: "21:00", End: "06:30", TimeZone: "America/Denver"}, ExcludeMutedFromBadge: true}
		got, err := w.svc.SetPreferences(ctx, w.tech1, want)
		require.NoError(t, err)
		assert.Equal(t, want.Push, got.Push)
		assert.Equal(t, want.Preview, got.Preview)
		assert.Equal(t, want.Quiet, got.Quiet)
		assert.True(t, got.ExcludeMutedFromBadge)
		assert.Equal(t, w.tech1.Staff, got.Staff)
		again, err := w.svc.Preferences(ctx, w.tech1)
		require.NoError(t, err)
		assert.Equal(t, got, again, "another device reads the same preferences")
		notes := w.notes.take()
		require.Len(t, notes, 1, "the person's other devices are told")
		assert.Equal(t, conversations.EventPreferences, notes[0].Type)
		assert.Equal(t, w.tech1.Staff, notes[0].Recipient)

		_, err = w.svc.SetPreferences(ctx, w.disp, conversations.Preferences{Push: conversations.PushAll})
		assert.NoError(t, err, "a dispatcher may ask for every customer message")
	})
}

func TestMuteKeepsTheThreadInTheInboxAndSilencesPushes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		m := w.inbound(t, "+15005550999", "Hello", "SM1")
		other := w.inbound(t, "+15005550888", "Hi", "SM2")
		w.notes.take()

		// Only a thread the viewer may see can be muted.
		assert.ErrorIs(t, w.svc.Mute(ctx, w.tech1, m.Thread), conversations.ErrForbidden, "a thread the technician may not see")
		assert.ErrorIs(t, w.svc.Mute(ctx, w.disp, "no-such-thread"), conversations.ErrNotFound)
		assert.ErrorIs(t, w.svc.Mute(ctx, w.disp, ""), conversations.ErrInvalid)
		assert.ErrorIs(t, w.svc.Unmute(ctx, w.disp, "no-such-thread"), conversations.ErrNotFound)
		p, err := w.svc.Preferences(ctx, w.tech1)
		require.NoError(t, err)
		assert.Empty(t, p.Muted, "a refused mute changes nothing")
		assert.Empty(t, w.notes.take(), "and tells nobody")

		require.NoError(t, w.svc.Mute(ctx, w.disp, m.Thread))
		require.NoError(t, w.svc.Mute(ctx, w.disp, m.Thread), "muting twice is a no-op")
		notes := w.notes.take()
		require.Len(t, notes, 2)
		assert.Equal(t, conversations.EventPreferences, notes[0].Type, "the dispatcher's other devices are told")
		assert.Equal(t, m.Thread, notes[0].Thread)
		assert.EqualValues(t, 2, notes[0].Badge, "a muted thread still counts by default")
		p, err = w.svc.Preferences(ctx, w.disp)
		require.NoError(t, err)
		assert.Equal(t, []conversations.ThreadID{m.Thread}, p.Muted)

		w.inbound(t, "+15005550999", "Still there?", "SM3")
		n := to(t, w.notes.take(), w.disp.Staff)
		assert.Equal(t, conversations.EventMessage, n.Type, "the stream still gets the message")
		assert.True(t, n.Silent, "but no push and no sound")
		assert.EqualValues(t, 3, n.Badge, "and the badge still counts it")
		w.inbound(t, "+15005550888", "And you?", "SM4")
		assert.False(t, to(t, w.notes.take(), w.disp.Staff).Silent, "a mute is of one thread only")

		// The inbox keeps the muted thread, with its unread count.
		page, err := w.svc.Inbox(ctx, w.disp, conversations.InboxQuery{})
		require.NoError(t, err)
		unread := map[conversations.ThreadID]int64{}
		for _, th := range page.Threads {
			unread[th.ID] = th.Unread
		}
		assert.Equal(t, map[conversations.ThreadID]int64{m.Thread: 2, other.Thread: 2}, unread)
		assert.EqualValues(t, 4, badge(t, w.svc, w.disp))

		// Excluding muted threads from the badge: the inbox is unchanged.
		_, err = w.svc.SetPreferences(ctx, w.disp, conversations.Preferences{ExcludeMutedFromBadge: true})
		require.NoError(t, err)
		assert.EqualValues(t, 2, to(t, w.notes.take(), w.disp.Staff).Badge, "the preferences event carries the new badge")
		assert.EqualValues(t, 2, badge(t, w.svc, w.disp))
		page, err = w.svc.Inbox(ctx, w.disp, conversations.InboxQuery{})
		require.NoError(t, err)
		assert.Len(t, page.Threads, 2, "the muted thread stays in the inbox")
		w.inbound(t, "+15005550999", "Hello??", "SM5")
		n = to(t, w.notes.take(), w.disp.Staff)
		assert.True(t, n.Silent)
		assert.EqualValues(t, 2, n.Badge, "a muted thread's message leaves the badge as it was")
		assert.EqualValues(t, 5, badge(t, w.svc, w.admin), "someone else's mute changes nothing of theirs")

		require.NoError(t, w.svc.Unmute(ctx, w.disp, m.Thread))
		assert.EqualValues(t, 5, to(t, w.notes.take(), w.disp.Staff).Badge, "unmuted: the thread counts again")
		w.inbound(t, "+15005550999", "Hello???", "SM6")
		assert.False(t, to(t, w.notes.take(), w.disp.Staff).Silent, "unmuted: pushes again")
	})
}

func TestPushModesPreviewAndQuietHours(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		m := w.inbound(t, "+15005550999", "Hello", "SM1")
		w.putJob(t, "job-1")
		require.NoError(t, w.svc.LinkJob(ctx, w.disp, m.Thread, "job-1"))
		require.NoError(t, w.svc.Assign(ctx, w.tenant, "job-1", w.tech1.Staff))
		w.notes.take()

		// Defaults: the watching technician gets the message; the
		// dispatchers, who do not watch the thread, a badge event.
		w.inbound(t, "+15005550999", "Gate code 1234", "SM2")
		notes := w.notes.take()
		n := to(t, notes, w.tech1.Staff)
		assert.Equal(t, conversations.EventMessage, n.Type)
		assert.False(t, n.Silent)
		d := to(t, notes, w.disp.Staff)
		assert.Equal(t, conversations.EventBadge, d.Type, "a dispatcher not watching gets the cheap badge event")
		assert.Nil(t, d.Message)
		assert.EqualValues(t, 2, d.Badge)

		// PushAll: the dispatcher gets every customer message.
		_, err := w.svc.SetPreferences(ctx, w.disp, conversations.Preferences{Push: conversations.PushAll})
		require.NoError(t, err)
		w.notes.take()
		w.inbound(t, "+15005550999", "Also the dog", "SM3")
		notes = w.notes.take()
		d = to(t, notes, w.disp.Staff)
		assert.Equal(t, conversations.EventMessage, d.Type, "every customer message, for a dispatcher who asked")
		require.NotNil(t, d.Message)
		assert.False(t, d.Silent)
		assert.Equal(t, conversations.EventBadge, to(t, notes, w.admin.Staff).Type, "the admin kept the default")

		// PushUrgent: a technician's ordinary messages are silent; an
		// escalation is not.
		_, err = w.svc.SetPreferences(ctx, w.tech1, conversations.Preferences{Push: conversations.PushUrgent, Preview: conversations.PreviewHidden})
		require.NoError(t, err)
		w.notes.take()
		w.inbound(t, "+15005550999", "Ordinary", "SM4")
		n = to(t, w.notes.take(), w.tech1.Staff)
		assert.True(t, n.Silent, "urgent only: an ordinary message does not push")
		assert.Equal(t, conversations.PreviewHidden, n.Preview, "the preview preference travels with the notification")
		_, err = w.svc.Escalate(ctx, conversations.Escalation{
			Tenant: w.tenant, Contact: conversations.Contact{Phone: "+15005550999"}, Summary: "water everywhere",
			Urgent: true, Job: "job-1", Key: "call-1",
		})
		require.NoError(t, err)
		n = to(t, ofType(w.notes.take(), conversations.EventMessage), w.tech1.Staff)
		assert.True(t, n.Urgent)
		assert.False(t, n.Silent, "urgent only: an escalation pushes")

		// Quiet hours (the Service's clock is 08:00 UTC): silent inside,
		// pushed outside; the stream gets the event either way.
		_, err = w.svc.SetPreferences(ctx, w.tech1, conversations.Preferences{Quiet: conversations.QuietHours{Start: "07:30", End: "09:00", TimeZone: "UTC"}})
		require.NoError(t, err)
		w.notes.take()
		w.inbound(t, "+15005550999", "During quiet hours", "SM5")
		n = to(t, w.notes.take(), w.tech1.Staff)
		assert.Equal(t, conversations.EventMessage, n.Type, "the stream still updates in quiet hours")
		assert.True(t, n.Silent, "no push in quiet hours")
		_, err = w.svc.SetPreferences(ctx, w.tech1, conversations.Preferences{Quiet: conversations.QuietHours{Start: "22:00", End: "07:30", TimeZone: "UTC"}})
		require.NoError(t, err)
		w.notes.take()
		w.inbound(t, "+15005550999", "After quiet hours", "SM6")
		assert.False(t, to(t, w.notes.take(), w.tech1.Staff).Silent, "outside quiet hours, pushes again")
	})
}
