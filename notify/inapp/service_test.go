package inapp_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/notify/inapp"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
)

var worlds atomic.Int64

// world is one business on a database, with a Service that notifies hub.
type world struct {
	svc                    *conversations.Service
	tenant                 conversations.TenantID
	number                 string
	disp, admin, tom, tara conversations.Viewer
}

func newWorld(t testing.TB, db *store.DB, n conversations.Notifier) *world {
	t.Helper()
	svc, err := conversations.NewService(conversations.Config{Store: db, Policy: policy.Default(), Notifier: n, Jobs: db})
	require.NoError(t, err)
	return populate(t, svc, conversations.NewID[conversations.TenantID](), fmt.Sprintf("+1500666%04d", worlds.Add(1)))
}

// populate puts a business's staff and number in through svc.
func populate(t testing.TB, svc *conversations.Service, tenant conversations.TenantID, number string) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{svc: svc, tenant: tenant, number: number}
	mk := func(id string, role conversations.Role) conversations.Viewer {
		st := conversations.Staff{Tenant: tenant, ID: conversations.StaffID(id), Name: id, Role: role}
		require.NoError(t, svc.PutStaff(ctx, st))
		return st.Viewer()
	}
	w.disp, w.admin = mk("dana", conversations.RoleDispatcher), mk("alex", conversations.RoleAdmin)
	w.tom, w.tara = mk("tom", conversations.RoleTechnician), mk("tara", conversations.RoleTechnician)
	require.NoError(t, svc.ProvisionNumber(ctx, conversations.BusinessNumber{Tenant: tenant, Number: number, Default: true}))
	return w
}

var sids atomic.Int64

func (w *world) inbound(t testing.TB, from, body string) conversations.Message {
	t.Helper()
	m, created, err := w.svc.Receive(context.Background(), conversations.InboundMessage{
		Tenant: w.tenant, Channel: conversations.ChannelSMS, BusinessNumber: w.number,
		From: from, Body: body, ProviderID: fmt.Sprintf("SM%030d", sids.Add(1)),
	})
	require.NoError(t, err)
	require.True(t, created)
	return m
}

func (w *world) badge(t testing.TB, v conversations.Viewer) int64 {
	t.Helper()
	n, err := w.svc.Badge(context.Background(), v)
	require.NoError(t, err)
	return n
}

// expect reads c's next notification and checks it, and that its badge is
// the one the Service reports now.
func (w *world) expect(t testing.TB, c *sseClient, v conversations.Viewer, typ conversations.EventType, thread conversations.ThreadID, badge int64, why string) sseEvent {
	t.Helper()
	ev := c.mustNote(t)
	p := ev.payload(t)
	assert.Equal(t, string(typ), ev.Event, "%s: the event type", why)
	assert.Equal(t, string(typ), p.Type, why)
	assert.Equal(t, string(thread), p.Thread, "%s: the thread", why)
	assert.Equal(t, badge, p.Badge, "%s: the badge in the event", why)
	assert.Equal(t, w.badge(t, v), p.Badge, "%s: the streamed badge is the inbox's", why)
	assert.Equal(t, ev.ID, p.ID, "%s: the event id is the payload's", why)
	return ev
}

// expectBadgeNow reads c's next notification: a badge-only event whose
// badge is badge and the one the Service reports for v now.
func (w *world) expectBadgeNow(t testing.TB, c *sseClient, v conversations.Viewer, badge int64, why string) {
	t.Helper()
	expectBadge(t, c, badge, why)
	assert.Equal(t, w.badge(t, v), badge, "%s: the streamed badge is the inbox's", why)
}

// expectBadge reads c's next notification: a badge-only event with badge.
func expectBadge(t testing.TB, c *sseClient, badge int64, why string) {
	t.Helper()
	ev := c.mustNote(t)
	assert.Equal(t, string(conversations.EventBadge), ev.Event, "%s: the event type", why)
	assert.Equal(t, badge, ev.payload(t).Badge, "%s: the badge in the event", why)
}

// The badge a device sees in the stream follows inbound messages, reads on
// another device, unassignments and archiving, on both databases.
func TestStreamedBadgeFollowsTheInbox(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		hub, err := inapp.New(inapp.Config{Log: db, Authenticate: authenticate})
		require.NoError(t, err)
		srv := newServer(t, hub)
		w := newWorld(t, db, hub)

		phone, tablet := dial(t, srv.URL, w.disp, ""), dial(t, srv.URL, w.disp, "")
		tomPhone := dial(t, srv.URL, w.tom, "")
		for _, c := range []*sseClient{phone, tablet, tomPhone} {
			c.mustReady(t)
		}

		// A new inbound message reaches every device of every watcher.
		m1 := w.inbound(t, "+15005550101", "When will the tech get here?")
		t1 := m1.Thread
		for _, c := range []*sseClient{phone, tablet} {
			ev := w.expect(t, c, w.disp, conversations.EventMessage, t1, 1, "inbound message")
			p := ev.payload(t)
			require.NotNil(t, p.Message)
			assert.Equal(t, "When will the tech get here?", p.Message.Body)
			assert.Equal(t, string(m1.ID), p.Message.ID)
		}

		// A read on the phone reaches the tablet (and the phone) with the new badge.
		_, err = w.svc.MarkRead(ctx, w.disp, t1, 0)
		require.NoError(t, err)
		for _, c := range []*sseClient{phone, tablet} {
			ev := w.expect(t, c, w.disp, conversations.EventRead, t1, 0, "read on another device")
			assert.EqualValues(t, 1, ev.payload(t).ReadSeq)
		}

		// A second customer; the first one's thread is read.
		m2 := w.inbound(t, "+15005550202", "Is Tuesday still on?")
		t2 := m2.Thread
		for _, c := range []*sseClient{phone, tablet} {
			w.expect(t, c, w.disp, conversations.EventMessage, t2, 1, "second customer (the first is read)")
		}

		// Tom is assigned to both customers' jobs: he watches both threads
		// now, and the dispatcher, who sees them too, hears only of her badge.
		for _, job := range []conversations.JobID{"job-1", "job-2"} {
			require.NoError(t, db.PutJob(ctx, conversations.JobContext{Tenant: w.tenant, ID: job}))
		}
		require.NoError(t, w.svc.LinkJob(ctx, w.disp, t1, "job-1"))
		require.NoError(t, w.svc.LinkJob(ctx, w.disp, t2, "job-2"))
		require.NoError(t, w.svc.Assign(ctx, w.tenant, "job-1", w.tom.Staff))
		require.NoError(t, w.svc.Assign(ctx, w.tenant, "job-2", w.tom.Staff))
		expectBadge(t, tomPhone, 1, "assigned to job 1: its thread counts at once")
		expectBadge(t, tomPhone, 2, "assigned to job 2 as well")
		w.inbound(t, "+15005550101", "Gate code is 4321")
		w.expect(t, tomPhone, w.tom, conversations.EventMessage, t1, 2+1, "assigned technician: two unread here, one there")
		for _, c := range []*sseClient{phone, tablet} {
			w.expectBadgeNow(t, c, w.disp, 1+1, "a watched thread's message: the dispatcher's badge")
		}

		// Unassigned from job 2: its thread leaves Tom's badge, and goes
		// back to the dispatcher.
		require.NoError(t, w.svc.Unassign(ctx, w.tenant, "job-2", w.tom.Staff))
		expectBadge(t, tomPhone, 2, "unassigned from job 2: its thread leaves the badge at once")
		w.inbound(t, "+15005550202", "Hello?")
		for _, c := range []*sseClient{phone, tablet} {
			w.expect(t, c, w.disp, conversations.EventMessage, t2, 1+2, "an unwatched thread goes back to the dispatcher")
		}
		w.inbound(t, "+15005550101", "Also, the dog is friendly")
		w.expect(t, tomPhone, w.tom, conversations.EventMessage, t1, 3, "after the unassignment only thread 1 counts")
		for _, c := range []*sseClient{phone, tablet} {
			w.expectBadgeNow(t, c, w.disp, 2+2, "the dispatcher's badge counts both threads")
		}

		// Archiving thread 2 (two unread) takes it out of the dispatcher's
		// badge; a new message brings it back, whole.
		require.NoError(t, w.svc.Archive(ctx, w.disp, t2))
		for _, c := range []*sseClient{phone, tablet} {
			expectBadge(t, c, 2, "archiving tells every device the new badge at once")
		}
		m3 := w.inbound(t, "+15005550303", "Do you do gutters?")
		for _, c := range []*sseClient{phone, tablet} {
			w.expect(t, c, w.disp, conversations.EventMessage, m3.Thread, 2+1, "the archived thread is left out of the badge")
		}
		w.inbound(t, "+15005550202", "Anyone there?")
		for _, c := range []*sseClient{phone, tablet} {
			w.expect(t, c, w.disp, conversations.EventMessage, t2, 2+3+1, "a new message unarchives the thread")
		}
		tomPhone.quiet(t, 200*time.Millisecond, "an unassigned technician hears nothing of the thread")
	})
}
