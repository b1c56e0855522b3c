package conversations_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
)

// recorder is a Notifier that keeps what it is told.
type recorder struct {
	mu  sync.Mutex
	got []conversations.Notification
}

func (r *recorder) Notify(_ context.Context, n conversations.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, n)
	return nil
}

func (r *recorder) take() []conversations.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

// clock is a settable test clock that moves a millisecond per reading, so
// every message has its own time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Millisecond)
	return c.now
}

var worlds atomic.Int64

// world is one business with a dispatcher, an admin, two technicians and a
// provisioned number, on a fresh database.
type world struct {
	svc    *conversations.Service
	db     *store.DB
	notes  *recorder
	tenant conversations.TenantID
	number string
	disp   conversations.Viewer
	admin  conversations.Viewer
	tech1  conversations.Viewer
	tech2  conversations.Viewer
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	notes := &recorder{}
	clk := &clock{now: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)}
	svc, err := conversations.NewService(conversations.Config{
		Store: testdb.Under(db), Policy: policy.Default(), Notifier: notes, Jobs: db, Clock: clk.Now,
	})
	require.NoError(t, err)
	// A number belongs to one business, so every world gets its own.
	number := fmt.Sprintf("+1500555%04d", worlds.Add(1))
	w := &world{svc: svc, db: db, notes: notes, tenant: conversations.NewID[conversations.TenantID](), number: number}
	mk := func(id string, role conversations.Role) conversations.Viewer {
		st := conversations.Staff{Tenant: w.tenant, ID: conversations.StaffID(id), Name: strings.ToUpper(id[:1]) + id[1:], Role: role}
		require.NoError(t, svc.PutStaff(ctx, st))
		return st.Viewer()
	}
	w.disp, w.admin = mk("dana", conversations.RoleDispatcher), mk("alex", conversations.RoleAdmin)
	w.tech1, w.tech2 = mk("tom", conversations.RoleTechnician), mk("tara", conversations.RoleTechnician)
	require.NoError(t, svc.ProvisionNumber(ctx, conversations.BusinessNumber{Tenant: w.tenant, Number: w.number, Default: true}))
	return w
}

// staff returns the viewer of one of w's staff.
func (w *world) staff(id conversations.StaffID) conversations.Viewer {
	for _, v := range []conversations.Viewer{w.disp, w.admin, w.tech1, w.tech2} {
		if v.Staff == id {
			return v
		}
	}
	panic("no staff member " + id)
}

func (w *world) inbound(t *testing.T, from, body, sid string) conversations.Message {
	t.Helper()
	m, _, err := w.svc.Receive(context.Background(), conversations.InboundMessage{
		Tenant: w.tenant, Channel: conversations.ChannelSMS, BusinessNumber: w.number,
		From: from, Body: body, ProviderID: sid,
	})
	require.NoError(t, err)
	return m
}

func inboxIDs(t *testing.T, svc *conversations.Service, v conversations.Viewer, f conversations.InboxFilter) []conversations.ThreadID {
	t.Helper()
	var ids []conversations.ThreadID
	q := conversations.InboxQuery{Filter: f, Limit: 2}
	for {
		p, err := svc.Inbox(context.Background(), v, q)
		require.NoError(t, err)
		for _, th := range p.Threads {
			ids = append(ids, th.ID)
		}
		if p.NextCursor == "" {
			return ids
		}
		q.After = p.NextCursor
	}
}

func badge(t *testing.T, svc *conversations.Service, v conversations.Viewer) int64 {
	t.Helper()
	n, err := svc.Badge(context.Background(), v)
	require.NoError(t, err)
	return n
}

func TestReceiveFilesOnceAndFollowsAssignments(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		m := w.inbound(t, "+15005550999", "When will the tech get here?", "SM1")
		again, created, err := w.svc.Receive(ctx, conversations.InboundMessage{
			Tenant: w.tenant, Channel: conversations.ChannelSMS, BusinessNumber: w.number,
			From: "+15005550999", Body: "When will the tech get here?", ProviderID: "SM1",
		})
		require.NoError(t, err)
		assert.False(t, created, "a repeated provider id must not create a message")
		assert.Equal(t, m.ID, again.ID, "a repeated provider id returns the first message")
		assert.Equal(t, conversations.StatusReceived, m.Status)
		assert.EqualValues(t, 1, m.Seq)

		assert.Equal(t, []conversations.ThreadID{m.Thread}, inboxIDs(t, w.svc, w.disp, conversations.FilterAll), "dispatchers see every customer thread")
		assert.EqualValues(t, 1, badge(t, w.svc, w.disp))
		assert.Empty(t, inboxIDs(t, w.svc, w.tech1, conversations.FilterAll), "a technician sees no customer thread they are not on")
		assert.EqualValues(t, 0, badge(t, w.svc, w.tech1))
		_, err = w.svc.Thread(ctx, w.tech1, m.Thread)
		assert.ErrorIs(t, err, conversations.ErrForbidden)
		_, histErr := w.svc.History(ctx, w.tech1, m.Thread, conversations.HistoryQuery{})
		assert.Equal(t, err, histErr, "History refuses what Thread refuses, with the same error")

		// Nobody is assigned: the dispatcher and admin are told.
		notes := w.notes.take()
		assert.ElementsMatch(t, []conversations.StaffID{w.disp.Staff, w.admin.Staff}, recipients(notes))
		for _, n := range notes {
			assert.EqualValues(t, 1, n.Badge, "each notification carries its recipient's badge")
		}

		w.putJob(t, "job-1")
		require.NoError(t, w.svc.LinkJob(ctx, w.disp, m.Thread, "job-1"))
		require.NoError(t, w.svc.Assign(ctx, w.tenant, "job-1", w.tech1.Staff))
		notes = w.notes.take()
		require.Len(t, notes, 1, "the assigned technician's devices are told their new badge")
		assert.Equal(t, conversations.EventBadge, notes[0].Type)
		assert.EqualValues(t, 1, notes[0].Badge)
		assert.Equal(t, []conversations.ThreadID{m.Thread}, inboxIDs(t, w.svc, w.tech1, conversations.FilterAll), "an assignment takes effect on the next read")
		assert.EqualValues(t, 1, badge(t, w.svc, w.tech1))
		assert.Empty(t, inboxIDs(t, w.svc, w.tech2, conversations.FilterAll))
		page, err := w.svc.History(ctx, w.tech1, m.Thread, conversations.HistoryQuery{})
		require.NoError(t, err, "an assignee reads the thread's history")
		assert.Equal(t, []int64{1}, seqs(page.Messages))

		w.inbound(t, "+15005550999", "Also the gate code is 1234", "SM2")
		notes = w.notes.take()
		assert.Equal(t, []conversations.StaffID{w.tech1.Staff}, recipients(ofType(notes, conversations.EventMessage)),
			"the assigned technician is told the message")
		assert.ElementsMatch(t, []conversations.StaffID{w.disp.Staff, w.admin.Staff}, recipients(ofType(notes, conversations.EventBadge)),
			"the dispatchers, who see every customer thread, their badge")
		for _, n := range notes {
			assert.Equal(t, badge(t, w.svc, w.staff(n.Recipient)), n.Badge, "each carries the recipient's badge")
		}

		w.notes.take()
		require.NoError(t, w.svc.Unassign(ctx, w.tenant, "job-1", w.tech1.Staff))
		notes = w.notes.take()
		require.Len(t, notes, 1, "the unassigned technician's devices are told their new badge")
		assert.Equal(t, conversations.EventBadge, notes[0].Type)
		assert.Equal(t, w.tech1.Staff, notes[0].Recipient)
		assert.EqualValues(t, 0, notes[0].Badge)
		assert.Empty(t, inboxIDs(t, w.svc, w.tech1, conversations.FilterAll), "an unassignment takes effect on the next read")
		assert.EqualValues(t, 0, badge(t, w.svc, w.tech1))
		_, err = w.svc.History(ctx, w.tech1, m.Thread, conversations.HistoryQuery{})
		assert.ErrorIs(t, err, conversations.ErrForbidden, "an unassignment takes effect on the next history read")
		w.inbound(t, "+15005550999", "Hello?", "SM3")
		assert.NotContains(t, recipients(w.notes.take()), w.tech1.Staff, "an unassigned technician is told nothing")
	})
}

// ofType returns those of ns of type typ.
func ofType(ns []conversations.Notification, typ conversations.EventType) []conversations.Notification {
	var out []conversations.Notification
	for _, n := range ns {
		if n.Type == typ {
			out = append(out, n)
		}
	}
	return out
}

func recipients(ns []conversations.Notification) []conversations.StaffID {
	var out []conversations.StaffID
	for _, n := range ns {
		out = append(out, n.Recipient)
	}
	return out
}

func TestBadInputIsTypedAndChangesNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		other := newWorld(t, db)
		good := conversations.InboundMessage{
			Tenant: w.tenant, Channel: conversations.ChannelSMS, BusinessNumber: w.number,
			From: "+15005550999", Body: "hi", ProviderID: "SMgood",
		}
		for _, tc := range []struct {
			name string
			edit func(*conversations.InboundMessage)
			want error
		}{
			{"provider id with a NUL", func(m *conversations.InboundMessage) { m.ProviderID = "SM\x00" }, conversations.ErrInvalid},
			{"oversize body", func(m *conversations.InboundMessage) { m.Body = strings.Repeat("a", 1601) }, conversations.ErrInvalid},
			{"invalid phone", func(m *conversations.InboundMessage) { m.From = "555-0199" }, conversations.ErrInvalid},
			{"no provider id", func(m *conversations.InboundMessage) { m.ProviderID = "" }, conversations.ErrInvalid},
			{"unknown business number", func(m *conversations.InboundMessage) { m.BusinessNumber = "+15005550777" }, conversations.ErrInvalid},
			{"another business's number", func(m *conversations.InboundMessage) { m.BusinessNumber = other.number + "0" }, conversations.ErrInvalid},
			{"too many media", func(m *conversations.InboundMessage) { m.Media = make([]conversations.Media, 11) }, conversations.ErrInvalid},
		} {
			in := good
			tc.edit(&in)
			_, _, err := w.svc.Receive(ctx, in)
			assert.ErrorIs(t, err, tc.want, tc.name)
			var fe *conversations.FieldError
			assert.ErrorAs(t, err, &fe, "%s: bad input is a *FieldError", tc.name)
		}
		nobody := good
		nobody.Tenant, nobody.BusinessNumber = "", "+15005550777"
		_, _, err := w.svc.Receive(ctx, nobody)
		assert.ErrorIs(t, err, conversations.ErrNotFound, "no tenant and a number no business has")
		assert.Empty(t, inboxIDs(t, w.svc, w.disp, conversations.FilterAll), "rejected input must write nothing")
		assert.EqualValues(t, 0, badge(t, w.svc, w.disp))

		_, err = w.svc.Thread(ctx, w.disp, conversations.NewID[conversations.ThreadID]())
		assert.ErrorIs(t, err, conversations.ErrNotFound, "unknown thread")
		_, err = w.svc.History(ctx, w.disp, conversations.NewID[conversations.ThreadID](), conversations.HistoryQuery{})
		assert.ErrorIs(t, err, conversations.ErrNotFound, "history of an unknown thread")
		_, err = w.svc.History(ctx, w.disp, "", conversations.HistoryQuery{})
		assert.ErrorIs(t, err, conversations.ErrInvalid, "history without a thread")
		_, err = w.svc.History(ctx, conversations.Viewer{Tenant: w.tenant, Staff: "x", Role: "owner"}, "t", conversations.HistoryQuery{})
		assert.ErrorIs(t, err, conversations.ErrInvalid, "history for an unknown role")
		_, err = w.svc.History(ctx, w.disp, "t", conversations.HistoryQuery{Before: -1})
		assert.ErrorIs(t, err, conversations.ErrInvalid, "a negative Before")
		_, err = w.svc.Inbox(ctx, w.disp, conversations.InboxQuery{Limit: 1000})
		assert.ErrorIs(t, err, conversations.ErrInvalid, "oversize page")
		_, err = w.svc.Inbox(ctx, w.disp, conversations.InboxQuery{After: "not-a-cursor"})
		assert.ErrorIs(t, err, conversations.ErrInvalid, "forged cursor")
		_, err = w.svc.Inbox(ctx, conversations.Viewer{Tenant: w.tenant, Staff: "x", Role: "owner"}, conversations.InboxQuery{})
		assert.ErrorIs(t, err, conversations.ErrInvalid, "unknown role")
		err = w.svc.ProvisionNumber(ctx, conversations.BusinessNumber{Tenant: w.tenant, Number: "5550100"})
		assert.ErrorIs(t, err, conversations.ErrInvalid, "invalid business number")
	})
}

func TestOptOutLedger(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		const customer = "+15005550999"
		w.inbound(t, customer, "Stop please", "SMa")
		_, out, err := w.svc.OptedOut(ctx, w.tenant, customer)
		require.NoError(t, err)
		assert.False(t, out, `"Stop please" is not an opt-out`)

		w.inbound(t, customer, " stop ", "SMb")
		entry, out, err := w.svc.OptedOut(ctx, w.tenant, customer)
		require.NoError(t, err)
		assert.True(t, out, "STOP opts out")
		assert.Equal(t, "STOP", entry.Keyword)
		assert.Equal(t, w.number, entry.BusinessNumber)

		_, out, err = w.svc.OptedOut(ctx, newWorld(t, db).tenant, customer)
		require.NoError(t, err)
		assert.False(t, out, "an opt-out belongs to the business the customer texted")

		w.inbound(t, customer, "START", "SMc")
		_, out, err = w.svc.OptedOut(ctx, w.tenant, customer)
		require.NoError(t, err)
		assert.False(t, out, "START opts back in")
	})
}

func TestInternalThreads(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		other := newWorld(t, db)

		_, err := w.svc.StartInternal(ctx, w.disp, conversations.StartInternal{Participants: []conversations.StaffID{other.tech1.Staff + "x"}})
		assert.ErrorIs(t, err, conversations.ErrInvalid, "staff of another business cannot be added")
		_, err = w.svc.StartInternal(ctx, w.disp, conversations.StartInternal{})
		assert.ErrorIs(t, err, conversations.ErrInvalid, "a thread with only its creator")

		th, err := w.svc.StartInternal(ctx, w.disp, conversations.StartInternal{Participants: []conversations.StaffID{w.tech1.Staff}, Subject: "Parts for the Lee job"})
		require.NoError(t, err)
		assert.Equal(t, conversations.ThreadInternal, th.Kind)
		assert.Equal(t, []conversations.StaffID{w.disp.Staff, w.tech1.Staff}, th.Participants)

		send := conversations.SendInternal{Thread: th.ID, Body: "Can you grab a 40 gal heater?", ClientID: "device-1/42"}
		m, err := w.svc.SendInternal(ctx, w.disp, send)
		require.NoError(t, err)
		assert.Equal(t, conversations.StatusDelivered, m.Status, "in-app messages are delivered when stored")
		assert.False(t, m.SentAt.IsZero() || m.DeliveredAt.IsZero(), "sent and delivered times are kept")
		assert.Equal(t, conversations.SourceMobile, m.Source)

		again, err := w.svc.SendInternal(ctx, w.disp, send)
		require.NoError(t, err)
		assert.Equal(t, m.ID, again.ID, "the same client id sends once")
		send.Body = "something else"
		_, err = w.svc.SendInternal(ctx, w.disp, send)
		assert.ErrorIs(t, err, conversations.ErrConflict, "the same client id with other content")

		notes := w.notes.take()
		require.Len(t, notes, 1, "one notification: the other participant, not the author")
		assert.Equal(t, w.tech1.Staff, notes[0].Recipient)
		assert.EqualValues(t, 1, notes[0].Badge)
		assert.EqualValues(t, 0, badge(t, w.svc, w.disp), "the author has read their own message")

		_, err = w.svc.SendInternal(ctx, w.tech2, conversations.SendInternal{Thread: th.ID, Body: "hi"})
		assert.ErrorIs(t, err, conversations.ErrForbidden, "a non-participant technician")
		_, err = w.svc.SendInternal(ctx, w.admin, conversations.SendInternal{Thread: th.ID, Body: "hi"})
		assert.ErrorIs(t, err, conversations.ErrForbidden, "internal threads are for participants only, admins included")
		assert.NotContains(t, inboxIDs(t, w.svc, w.admin, conversations.FilterAll), th.ID)
		_, err = w.svc.SendInternal(ctx, other.disp, conversations.SendInternal{Thread: th.ID, Body: "hi"})
		assert.ErrorIs(t, err, conversations.ErrNotFound, "another business")

		assert.Equal(t, []conversations.ThreadID{th.ID}, inboxIDs(t, w.svc, w.tech1, conversations.FilterInternal))
		assert.Empty(t, inboxIDs(t, w.svc, w.tech1, conversations.FilterCustomer))
		assert.Equal(t, []conversations.ThreadID{th.ID}, inboxIDs(t, w.svc, w.tech1, conversations.FilterUnread))
		seq, err := w.svc.MarkRead(ctx, w.tech1, th.ID, 0)
		require.NoError(t, err)
		assert.EqualValues(t, 1, seq)
		assert.Empty(t, inboxIDs(t, w.svc, w.tech1, conversations.FilterUnread))
	})
}

func TestMarkReadAcrossDevices(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		var m conversations.Message
		for i, body := range []string{"one", "two", "three"} {
			m = w.inbound(t, "+15005550999", body, "SM"+string(rune('a'+i)))
		}
		assert.EqualValues(t, 3, badge(t, w.svc, w.disp))
		w.notes.take()

		// The phone reads up to 2; the tablet, a moment later, reports an older horizon.
		h, err := w.svc.MarkRead(ctx, w.disp, m.Thread, 2)
		require.NoError(t, err)
		assert.EqualValues(t, 2, h)
		h, err = w.svc.MarkRead(ctx, w.disp, m.Thread, 1)
		require.NoError(t, err)
		assert.EqualValues(t, 2, h, "a read horizon never moves backwards")
		assert.EqualValues(t, 1, badge(t, w.svc, w.disp))
		notes := w.notes.take()
		require.NotEmpty(t, notes)
		last := notes[len(notes)-1]
		assert.Equal(t, conversations.EventRead, last.Type)
		assert.Equal(t, w.disp.Staff, last.Recipient, "a read goes to the reader's other devices")
		assert.EqualValues(t, 1, last.Badge)

		h, err = w.svc.MarkRead(ctx, w.disp, m.Thread, 99)
		require.NoError(t, err)
		assert.EqualValues(t, 3, h, "a read horizon never passes the newest message")
		assert.EqualValues(t, 0, badge(t, w.svc, w.disp))
		assert.EqualValues(t, 3, badge(t, w.svc, w.admin), "reads are per viewer")
		th, err := w.svc.Thread(ctx, w.admin, m.Thread)
		require.NoError(t, err)
		assert.EqualValues(t, 3, th.Unread)

		_, err = w.svc.MarkRead(ctx, w.disp, m.Thread, -1)
		assert.ErrorIs(t, err, conversations.ErrInvalid)
	})
}

func TestArchive(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		m := w.inbound(t, "+15005550999", "thanks!", "SM1")
		w.inbound(t, "+15005550888", "other customer", "SM2")
		w.notes.take()
		require.NoError(t, w.svc.Archive(ctx, w.disp, m.Thread))
		notes := w.notes.take()
		assert.ElementsMatch(t, []conversations.StaffID{w.disp.Staff, w.admin.Staff}, recipients(notes), "everyone who saw the thread gets their new badge")
		for _, n := range notes {
			assert.Equal(t, conversations.EventBadge, n.Type)
			assert.EqualValues(t, 1, n.Badge)
		}
		assert.NotContains(t, inboxIDs(t, w.svc, w.disp, conversations.FilterAll), m.Thread)
		assert.EqualValues(t, 1, badge(t, w.svc, w.disp), "archived threads leave the badge")
		page, err := w.svc.History(ctx, w.disp, m.Thread, conversations.HistoryQuery{})
		require.NoError(t, err)
		assert.Len(t, page.Messages, 1, "archiving never deletes messages")

		w.inbound(t, "+15005550999", "one more thing", "SM3")
		assert.Contains(t, inboxIDs(t, w.svc, w.disp, conversations.FilterAll), m.Thread, "a new message brings a thread back")
		assert.EqualValues(t, 3, badge(t, w.svc, w.disp))
	})
}

func TestHistoryPagesAreStable(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		var thread conversations.ThreadID
		for i := range 7 {
			thread = w.inbound(t, "+15005550999", "msg "+string(rune('0'+i)), "SM"+string(rune('0'+i))).Thread
		}
		p1, err := w.svc.History(ctx, w.disp, thread, conversations.HistoryQuery{Limit: 3})
		require.NoError(t, err)
		assert.Equal(t, []int64{7, 6, 5}, seqs(p1.Messages))
		w.inbound(t, "+15005550999", "new while paging", "SMnew")
		p2, err := w.svc.History(ctx, w.disp, thread, conversations.HistoryQuery{Limit: 3, Before: p1.NextBefore})
		require.NoError(t, err)
		assert.Equal(t, []int64{4, 3, 2}, seqs(p2.Messages), "a new message does not shift older pages")
		p3, err := w.svc.History(ctx, w.disp, thread, conversations.HistoryQuery{Limit: 3, Before: p2.NextBefore})
		require.NoError(t, err)
		assert.Equal(t, []int64{1}, seqs(p3.Messages))
		assert.Zero(t, p3.NextBefore)
	})
}

func seqs(ms []conversations.Message) []int64 {
	var out []int64
	for _, m := range ms {
		out = append(out, m.Seq)
	}
	return out
}

func TestTenantIsolation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := newWorld(t, db), newWorld(t, db)
		m := a.inbound(t, "+15005550999", "private to business A", "SM1")
		for _, v := range []conversations.Viewer{b.disp, b.admin, b.tech1} {
			_, err := b.svc.Thread(ctx, v, m.Thread)
			assert.ErrorIs(t, err, conversations.ErrNotFound, "thread of another business")
			_, err = b.svc.History(ctx, v, m.Thread, conversations.HistoryQuery{})
			assert.ErrorIs(t, err, conversations.ErrNotFound, "history of another business")
			_, err = b.svc.MarkRead(ctx, v, m.Thread, 1)
			assert.ErrorIs(t, err, conversations.ErrNotFound, "mark read in another business")
			assert.ErrorIs(t, b.svc.LinkJob(ctx, v, m.Thread, "j"), conversations.ErrNotFound)
			assert.ErrorIs(t, b.svc.Archive(ctx, v, m.Thread), conversations.ErrNotFound)
			assert.ErrorIs(t, b.svc.AddParticipants(ctx, v, m.Thread, v.Staff), conversations.ErrNotFound)
			_, err = b.svc.SaveDraft(ctx, v, conversations.Draft{Thread: m.Thread, Body: "x"})
			assert.ErrorIs(t, err, conversations.ErrNotFound, "a draft for another business's thread")
			assert.Empty(t, inboxIDs(t, b.svc, v, conversations.FilterAll))
			assert.EqualValues(t, 0, badge(t, b.svc, v))
		}
		// A technician id that business A does not have sees nothing of A.
		stranger := conversations.Viewer{Tenant: a.tenant, Staff: "stranger", Role: conversations.RoleTechnician}
		assert.Empty(t, inboxIDs(t, a.svc, stranger, conversations.FilterAll))
		assert.EqualValues(t, 0, badge(t, a.svc, stranger))
		// A cursor from business A's inbox walks nothing of A for B.
		a.inbound(t, "+15005550998", "second", "SM2")
		p, err := a.svc.Inbox(ctx, a.disp, conversations.InboxQuery{Limit: 1})
		require.NoError(t, err)
		require.NotEmpty(t, p.NextCursor)
		pb, err := b.svc.Inbox(ctx, b.disp, conversations.InboxQuery{Limit: 1, After: p.NextCursor})
		if err == nil {
			assert.Empty(t, pb.Threads, "a cursor from another business must not leak its threads")
		}
		_, err = b.svc.ApplyStatus(ctx, conversations.StatusUpdate{Tenant: b.tenant, Message: m.ID, Status: conversations.StatusFailed})
		assert.ErrorIs(t, err, conversations.ErrNotFound, "a status for another business's message")
		th, err := a.svc.Thread(ctx, a.disp, m.Thread)
		require.NoError(t, err)
		assert.False(t, th.Archived)
		assert.Empty(t, th.Jobs)
		assert.Empty(t, th.Participants)
	})
}

func TestDrafts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		m := w.inbound(t, "+15005550999", "hi", "SM1")
		d, err := w.svc.SaveDraft(ctx, w.disp, conversations.Draft{Thread: m.Thread, Body: "On my w"})
		require.NoError(t, err)
		assert.NotEmpty(t, d.ClientID, "a draft gets a client id for its eventual send")
		assert.EqualValues(t, 1, d.Version)

		d.Body = "On my way"
		d2, err := w.svc.SaveDraft(ctx, w.disp, d)
		require.NoError(t, err)
		assert.EqualValues(t, 2, d2.Version)
		assert.Equal(t, d.ClientID, d2.ClientID)

		d.Body = "stale edit from the other device"
		_, err = w.svc.SaveDraft(ctx, w.disp, d)
		assert.ErrorIs(t, err, conversations.ErrConflict, "an edit based on an old version")

		got, err := w.svc.Draft(ctx, w.disp, d.ID)
		require.NoError(t, err)
		assert.Equal(t, "On my way", got.Body)
		_, err = w.svc.Draft(ctx, w.admin, d.ID)
		assert.ErrorIs(t, err, conversations.ErrNotFound, "drafts are their author's")

		_, err = w.svc.SaveDraft(ctx, w.tech1, conversations.Draft{Thread: m.Thread, Body: "x"})
		assert.ErrorIs(t, err, conversations.ErrForbidden, "a draft for a thread the author may not see")
		_, err = w.svc.SaveDraft(ctx, w.tech1, conversations.Draft{To: "555-1234", Body: "x"})
		assert.ErrorIs(t, err, conversations.ErrInvalid)
		nd, err := w.svc.SaveDraft(ctx, w.tech1, conversations.Draft{To: "+15005550123", Body: "Hi, this is Tom"})
		require.NoError(t, err)

		list, err := w.svc.Drafts(ctx, w.tech1)
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, nd.ID, list[0].ID)
		require.NoError(t, w.svc.DeleteDraft(ctx, w.tech1, nd.ID))
		list, err = w.svc.Drafts(ctx, w.tech1)
		require.NoError(t, err)
		assert.Empty(t, list)
		assert.ErrorIs(t, w.svc.DeleteDraft(ctx, w.admin, d.ID), conversations.ErrNotFound)
	})
}

func TestJobThread(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		require.NoError(t, db.PutJob(ctx, conversations.JobContext{
			Tenant: w.tenant, ID: "job-9", Title: "Water heater swap",
			Customer: conversations.Contact{Name: "Pat Lee", Phone: "+15005550999", Ref: "crm-77"},
		}))
		require.NoError(t, db.PutJob(ctx, conversations.JobContext{Tenant: w.tenant, ID: "job-nophone", Title: "x"}))
		require.NoError(t, w.svc.Assign(ctx, w.tenant, "job-9", w.tech1.Staff))

		_, err := w.svc.JobThread(ctx, w.tech2, "job-9")
		assert.ErrorIs(t, err, conversations.ErrForbidden, "a technician not assigned to the job")
		th, err := w.svc.JobThread(ctx, w.tech1, "job-9")
		require.NoError(t, err)
		assert.Equal(t, "+15005550999", th.Contact.Phone)
		assert.Equal(t, w.number, th.BusinessNumber, "customer threads use the business's number")
		assert.Equal(t, []conversations.JobID{"job-9"}, th.Jobs)
		assert.Contains(t, inboxIDs(t, w.svc, w.tech1, conversations.FilterCustomer), th.ID)

		// The customer's reply lands in the same thread.
		m := w.inbound(t, "+15005550999", "ok see you then", "SM1")
		assert.Equal(t, th.ID, m.Thread)
		again, err := w.svc.JobThread(ctx, w.disp, "job-9")
		require.NoError(t, err)
		assert.Equal(t, th.ID, again.ID)

		_, err = w.svc.JobThread(ctx, w.disp, "job-unknown")
		assert.ErrorIs(t, err, conversations.ErrNotFound)
		_, err = w.svc.JobThread(ctx, w.disp, "job-nophone")
		assert.ErrorIs(t, err, conversations.ErrInvalid)
	})
}

func TestApplyStatusThroughService(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		in := w.inbound(t, "+15005550999", "hi", "SM1")
		// An outbound SMS as the delivery queue stores it.
		out, created, err := db.AppendMessage(ctx, conversations.Message{
			ID: conversations.NewID[conversations.MessageID](), Tenant: w.tenant, Thread: in.Thread,
			Kind: conversations.KindCustomerSMS, Direction: conversations.DirectionOutbound, Channel: conversations.ChannelSMS,
			AuthorType: conversations.AuthorStaff, Author: w.disp.Staff, Body: "On our way", Source: conversations.SourceMobile,
			CreatedAt: time.Now().UTC(), Status: conversations.StatusQueued,
		})
		require.NoError(t, err)
		require.True(t, created)
		w.notes.take()

		at := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
		m, err := w.svc.ApplyStatus(ctx, conversations.StatusUpdate{Tenant: w.tenant, Message: out.ID, Status: conversations.StatusDelivered, At: at, ProviderID: "SMout"})
		require.NoError(t, err)
		assert.Equal(t, conversations.StatusDelivered, m.Status)
		assert.True(t, m.DeliveredAt.Equal(at))
		notes := w.notes.take()
		require.Len(t, notes, 1)
		assert.Equal(t, conversations.EventStatus, notes[0].Type)
		assert.Equal(t, w.disp.Staff, notes[0].Recipient, "the sender hears of the status")

		m, err = w.svc.ApplyStatus(ctx, conversations.StatusUpdate{Tenant: w.tenant, Channel: conversations.ChannelSMS, ProviderID: "SMout", Status: conversations.StatusSent, At: at.Add(-time.Minute)})
		require.NoError(t, err)
		assert.Equal(t, conversations.StatusDelivered, m.Status, "a late sent never overwrites delivered")
		assert.True(t, m.SentAt.Equal(at.Add(-time.Minute)), "the late sent's time is kept")
		_, err = w.svc.ApplyStatus(ctx, conversations.StatusUpdate{Tenant: w.tenant, Message: out.ID, Status: "bogus"})
		assert.ErrorIs(t, err, conversations.ErrInvalid)
		_, err = w.svc.ApplyStatus(ctx, conversations.StatusUpdate{Tenant: w.tenant, Message: conversations.NewID[conversations.MessageID](), Status: conversations.StatusSent})
		assert.ErrorIs(t, err, conversations.ErrNotFound)
	})
}

func TestNewServiceNeedsStoreAndPolicy(t *testing.T) {
	_, err := conversations.NewService(conversations.Config{Policy: policy.Default()})
	assert.ErrorIs(t, err, conversations.ErrInvalid)
	_, err = conversations.NewService(conversations.Config{Store: testdb.SQLite(t)})
	assert.ErrorIs(t, err, conversations.ErrInvalid)
	var fe *conversations.FieldError
	assert.True(t, errors.As(err, &fe) && fe.Field == "config.policy")
}

// A webhook that knows only the number files into the number's business,
// opt-out keywords included.
func TestReceiveWithoutTenantRoutesByNumber(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		first := w.inbound(t, "+15005550999", "Is the tech coming?", "SM1")
		m, created, err := w.svc.Receive(ctx, conversations.InboundMessage{
			Channel: conversations.ChannelSMS, BusinessNumber: w.number,
			From: "+15005550999", Body: "STOP", ProviderID: "SM2",
		})
		require.NoError(t, err)
		assert.True(t, created)
		assert.Equal(t, w.tenant, m.Tenant, "the message belongs to the number's business")
		assert.Equal(t, first.Thread, m.Thread, "and goes to the customer's thread")
		assert.EqualValues(t, 2, m.Seq)
		_, opted, err := w.svc.OptedOut(ctx, w.tenant, "+15005550999")
		require.NoError(t, err)
		assert.True(t, opted, "a STOP routed by the number records the opt-out in that business")
		assert.EqualValues(t, 2, badge(t, w.svc, w.disp))
	})
}
