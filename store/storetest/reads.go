package storetest

import (
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/policy"
)

func testBadgeAndUnread(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	rules := policy.Default()
	disp := f.staff(conversations.RoleDispatcher)
	tech := f.staff(conversations.RoleTechnician)
	other := f.staff(conversations.RoleTechnician)
	dScope, tScope, oScope := rules.Scope(disp.Viewer()), rules.Scope(tech.Viewer()), rules.Scope(other.Viewer())
	job := f.job()
	must(t, s.Assign(f.ctx, f.tenant, job, tech.ID), "Assign")
	th := f.customer(func(th *conversations.Thread) { th.Jobs = []conversations.JobID{job} })
	quiet := f.customer()
	for _, body := range []string{"one", "two", "three"} {
		f.inbound(th, body)
	}
	f.inbound(quiet, "hello")

	if got := f.badge(dScope); got != 4 {
		t.Errorf("Badge: a dispatcher counts every unread customer message: got %d, want 4", got)
	}
	if got := f.badge(tScope); got != 3 {
		t.Errorf("Badge: a technician counts the threads of jobs they are assigned to: got %d, want 3", got)
	}
	if got := f.badge(oScope); got != 0 {
		t.Errorf("Badge: a technician with no assignment and no participation counts nothing: got %d", got)
	}

	h, err := s.MarkRead(f.ctx, f.tenant, disp.ID, th.ID, 2)
	must(t, err, "MarkRead")
	if h != 2 {
		t.Errorf("MarkRead: returns the new horizon: got %d, want 2", h)
	}
	// Another device of the same person, behind: the horizon does not move back.
	h, err = s.MarkRead(f.ctx, f.tenant, disp.ID, th.ID, 1)
	must(t, err, "MarkRead(stale device)")
	if h != 2 {
		t.Errorf("MarkRead: never moves backwards: got %d, want 2", h)
	}
	if got := f.badge(dScope); got != 2 {
		t.Errorf("Badge: follows the read horizon: got %d, want 2", got)
	}
	if got := f.badge(tScope); got != 3 {
		t.Errorf("Badge: one person's reads do not change another's count: got %d, want 3", got)
	}
	rows := f.inboxAll(dScope, conversations.FilterAll, 0)
	if len(rows) != 2 || rows[0].ID != quiet.ID || rows[0].Unread != 1 || rows[1].ID != th.ID || rows[1].Unread != 1 {
		t.Errorf("Inbox: rows carry the viewer's unread count, newest activity first: got %+v", summary(rows))
	}
	unread := f.inboxAll(dScope, conversations.FilterUnread, 0)
	if len(unread) != 2 {
		t.Errorf("Inbox(FilterUnread): threads with unread messages: got %v", summary(unread))
	}
	h, err = s.MarkRead(f.ctx, f.tenant, disp.ID, th.ID, 100)
	must(t, err, "MarkRead(beyond)")
	if h != 3 {
		t.Errorf("MarkRead: clamps to the thread's LastSeq: got %d, want 3", h)
	}
	if rh, err := s.ReadHorizon(f.ctx, f.tenant, disp.ID, th.ID); err != nil || rh != 3 {
		t.Errorf("ReadHorizon: returns the stored horizon: got %d, %v", rh, err)
	}
	if rh, err := s.ReadHorizon(f.ctx, f.tenant, other.ID, th.ID); err != nil || rh != 0 {
		t.Errorf("ReadHorizon: 0 when never read: got %d, %v", rh, err)
	}
	unread = f.inboxAll(dScope, conversations.FilterUnread, 0)
	if len(unread) != 1 || unread[0].ID != quiet.ID {
		t.Errorf("Inbox(FilterUnread): a read thread leaves the unread filter: got %v", summary(unread))
	}
	if got := f.badge(dScope); got != 1 {
		t.Errorf("Badge: got %d, want 1", got)
	}

	// Unassignment takes the thread out of the technician's inbox and badge.
	must(t, s.Unassign(f.ctx, f.tenant, job, tech.ID), "Unassign")
	if got := f.badge(tScope); got != 0 {
		t.Errorf("Badge: after unassignment the thread no longer counts: got %d", got)
	}
	if rows := f.inboxAll(tScope, conversations.FilterAll, 0); len(rows) != 0 {
		t.Errorf("Inbox: after unassignment the thread is gone: got %v", summary(rows))
	}

	// Archived threads count for nobody and are not listed.
	must(t, s.SetArchived(f.ctx, f.tenant, quiet.ID, true), "SetArchived")
	must(t, s.SetArchived(f.ctx, f.tenant, quiet.ID, true), "SetArchived(again)")
	if got := f.badge(dScope); got != 0 {
		t.Errorf("Badge: an archived thread does not count: got %d", got)
	}
	if rows := f.inboxAll(dScope, conversations.FilterAll, 0); len(rows) != 1 || rows[0].ID != th.ID {
		t.Errorf("Inbox: archived threads are not listed: got %v", summary(rows))
	}
	// Reads on an archived thread are kept, and count once it comes back.
	_, err = s.MarkRead(f.ctx, f.tenant, disp.ID, quiet.ID, 1)
	must(t, err, "MarkRead(archived)")
	if got := f.badge(dScope); got != 0 {
		t.Errorf("Badge: got %d, want 0", got)
	}
	// A new message un-archives the thread.
	f.inbound(quiet, "are you there?")
	thr, err := s.GetThread(f.ctx, f.tenant, quiet.ID)
	must(t, err, "GetThread")
	if thr.Archived {
		t.Errorf("AppendMessage: a new message un-archives the thread")
	}
	if got := f.badge(dScope); got != 1 {
		t.Errorf("Badge: an un-archived thread counts again (2 messages, 1 read): got %d, want 1", got)
	}
	must(t, s.SetArchived(f.ctx, f.tenant, quiet.ID, true), "SetArchived")
	must(t, s.SetArchived(f.ctx, f.tenant, quiet.ID, false), "SetArchived(false)")
	if got := f.badge(dScope); got != 1 {
		t.Errorf("Badge: archive then un-archive restores the count: got %d, want 1", got)
	}

	// Internal threads count for their participants only.
	in := f.internal(disp.ID, tech.ID)
	f.note(in, tech.ID, "note 1")
	f.note(in, tech.ID, "note 2")
	if got := f.badge(dScope); got != 3 {
		t.Errorf("Badge: a dispatcher's internal threads count too: got %d, want 3", got)
	}
	if got := f.badge(tScope); got != 2 {
		t.Errorf("Badge: a participant counts the internal thread: got %d, want 2", got)
	}
	if got := f.badge(oScope); got != 0 {
		t.Errorf("Badge: a non-participant does not count an internal thread: got %d", got)
	}
	_, err = s.MarkRead(f.ctx, f.tenant, tech.ID, in.ID, 2)
	must(t, err, "MarkRead")
	if got := f.badge(tScope); got != 0 {
		t.Errorf("Badge: got %d, want 0", got)
	}
	if got := f.badge(conversations.Scope{Tenant: f.tenant, Staff: other.ID, AllInternal: true}); got != 2 {
		t.Errorf("Badge: a scope with AllInternal counts every internal thread: got %d, want 2", got)
	}
	if got := f.badge(conversations.Scope{Tenant: f.tenant, AllCustomer: true}); got != 0 {
		t.Errorf("Badge: a scope without a staff member allows nothing: got %d", got)
	}
	if got := f.badge(conversations.Scope{Staff: disp.ID, AllCustomer: true}); got != 0 {
		t.Errorf("Badge: a scope without a tenant allows nothing: got %d", got)
	}
	_, err = s.MarkRead(f.ctx, f.tenant, disp.ID, "thread-missing", 1)
	wantErr(t, err, conversations.ErrNotFound, "MarkRead: an unknown thread is ErrNotFound")
}

type row struct {
	ID     conversations.ThreadID
	Unread int64
}

func summary(ts []conversations.Thread) []row {
	out := make([]row, len(ts))
	for i, t := range ts {
		out[i] = row{t.ID, t.Unread}
	}
	return out
}
