package storetest

import (
	"reflect"
	"slices"
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/policy"
)

// testTenantIsolation gives two businesses the same staff ids, job ids,
// business number layout and customer addresses, then has B's staff reach for
// A's rows by id through every method: nothing of A may be read, counted,
// paged to or changed.
func testTenantIsolation(t *testing.T, s conversations.FastStore) {
	a := newFixture(t, s)
	b := a.other()
	rules := policy.Default()
	shared := conversations.StaffID("staff-" + conversations.NewID[conversations.StaffID]())
	job := a.job()
	staffA := conversations.Staff{Tenant: a.tenant, ID: shared, Role: conversations.RoleDispatcher}
	staffB := conversations.Staff{Tenant: b.tenant, ID: shared, Role: conversations.RoleDispatcher}
	techB := conversations.Staff{Tenant: b.tenant, ID: "tech-" + shared, Role: conversations.RoleTechnician}
	for _, st := range []conversations.Staff{staffA, staffB, techB} {
		must(t, s.PutStaff(a.ctx, st), "PutStaff")
	}
	must(t, s.Assign(a.ctx, a.tenant, job, shared), "Assign")
	thA := a.customer(func(th *conversations.Thread) {
		th.Jobs = []conversations.JobID{job}
		th.Participants = []conversations.StaffID{shared}
		th.Contact.Phone = "+15558880000"
	})
	inA := a.internal(shared)
	msgA := a.inbound(thA, "secret")
	out := a.outboundMsg(thA, shared, "reply")
	sentA, _, err := s.AppendMessage(a.ctx, out)
	must(t, err, "AppendMessage")
	a.note(inA, shared, "internal secret")
	draftA, err := s.PutDraft(a.ctx, conversations.Draft{Tenant: a.tenant, Author: shared, Thread: thA.ID, Body: "draft", ClientID: "c-1"})
	must(t, err, "PutDraft")
	_, err = s.MarkRead(a.ctx, a.tenant, shared, thA.ID, 1)
	must(t, err, "MarkRead")

	// B has its own customer thread for the same number and address.
	thB, created, err := s.CustomerThread(b.ctx, conversations.Thread{Tenant: b.tenant, BusinessNumber: thA.BusinessNumber, Contact: thA.Contact})
	must(t, err, "CustomerThread")
	if !created || thB.ID == thA.ID {
		t.Errorf("CustomerThread: the customer key is per tenant: B must get its own thread")
	}
	b.inbound(thB, "b's message")
	// B assigns its technician to a job with A's job id.
	must(t, s.Assign(b.ctx, b.tenant, job, techB.ID), "Assign")

	snapshot := func() (conversations.Thread, conversations.Thread, conversations.Message, conversations.Draft, int64) {
		th, err := s.GetThread(a.ctx, a.tenant, thA.ID)
		must(t, err, "GetThread(A)")
		in, err := s.GetThread(a.ctx, a.tenant, inA.ID)
		must(t, err, "GetThread(A)")
		m, err := s.GetMessage(a.ctx, a.tenant, sentA.ID)
		must(t, err, "GetMessage(A)")
		d, err := s.GetDraft(a.ctx, a.tenant, shared, draftA.ID)
		must(t, err, "GetDraft(A)")
		h, err := s.ReadHorizon(a.ctx, a.tenant, shared, thA.ID)
		must(t, err, "ReadHorizon(A)")
		return th, in, m, d, h
	}
	th0, in0, m0, d0, h0 := snapshot()
	badgeA := a.badge(rules.Scope(staffA.Viewer()))

	rule := "tenant isolation: another tenant's id is ErrNotFound"
	_, err = s.GetThread(b.ctx, b.tenant, thA.ID)
	wantErr(t, err, conversations.ErrNotFound, rule+" (GetThread)")
	_, err = s.GetMessage(b.ctx, b.tenant, msgA.ID)
	wantErr(t, err, conversations.ErrNotFound, rule+" (GetMessage)")
	_, err = s.MessageByProviderID(b.ctx, b.tenant, conversations.ChannelSMS, msgA.ProviderID)
	wantErr(t, err, conversations.ErrNotFound, rule+" (MessageByProviderID)")
	_, err = s.MessageByClientID(b.ctx, b.tenant, shared, out.ClientID)
	wantErr(t, err, conversations.ErrNotFound, rule+" (MessageByClientID)")
	_, err = s.History(b.ctx, b.tenant, thA.ID, conversations.HistoryQuery{})
	wantErr(t, err, conversations.ErrNotFound, rule+" (History)")
	_, err = s.ReadHorizon(b.ctx, b.tenant, shared, thA.ID)
	wantErr(t, err, conversations.ErrNotFound, rule+" (ReadHorizon)")
	_, err = s.MarkRead(b.ctx, b.tenant, shared, thA.ID, 5)
	wantErr(t, err, conversations.ErrNotFound, rule+" (MarkRead)")
	_, _, err = s.ApplyStatus(b.ctx, conversations.StatusUpdate{Tenant: b.tenant, Message: sentA.ID, Status: conversations.StatusFailed})
	wantErr(t, err, conversations.ErrNotFound, rule+" (ApplyStatus by id)")
	err = s.SetArchived(b.ctx, b.tenant, thA.ID, true)
	wantErr(t, err, conversations.ErrNotFound, rule+" (SetArchived)")
	err = s.AddParticipants(b.ctx, b.tenant, thA.ID, techB.ID)
	wantErr(t, err, conversations.ErrNotFound, rule+" (AddParticipants)")
	err = s.RemoveParticipant(b.ctx, b.tenant, thA.ID, shared)
	wantErr(t, err, conversations.ErrNotFound, rule+" (RemoveParticipant)")
	err = s.LinkJob(b.ctx, b.tenant, thA.ID, "job-b")
	wantErr(t, err, conversations.ErrNotFound, rule+" (LinkJob)")
	err = s.UnlinkJob(b.ctx, b.tenant, thA.ID, job)
	wantErr(t, err, conversations.ErrNotFound, rule+" (UnlinkJob)")
	_, _, err = s.AppendMessage(b.ctx, b.inboundMsg(thA, "injected"))
	wantErr(t, err, conversations.ErrNotFound, rule+" (AppendMessage)")
	_, err = s.GetDraft(b.ctx, b.tenant, shared, draftA.ID)
	wantErr(t, err, conversations.ErrNotFound, rule+" (GetDraft)")
	steal := draftA
	steal.Tenant, steal.Body = b.tenant, "overwritten"
	_, err = s.PutDraft(b.ctx, steal)
	wantErr(t, err, conversations.ErrNotFound, rule+" (PutDraft)")
	err = s.DeleteDraft(b.ctx, b.tenant, shared, draftA.ID)
	wantErr(t, err, conversations.ErrNotFound, rule+" (DeleteDraft)")
	_, err = s.GetStaff(b.ctx, b.tenant, "tech-missing")
	wantErr(t, err, conversations.ErrNotFound, rule+" (GetStaff)")
	// ApplyStatus by provider id under B's tenant.
	_, _, err = s.ApplyStatus(b.ctx, conversations.StatusUpdate{Tenant: b.tenant, Channel: conversations.ChannelSMS,
		ProviderID: msgA.ProviderID, Status: conversations.StatusFailed})
	wantErr(t, err, conversations.ErrNotFound, rule+" (ApplyStatus by provider id)")

	th1, in1, m1, d1, h1 := snapshot()
	if !reflect.DeepEqual(th0, th1) || !reflect.DeepEqual(in0, in1) {
		t.Errorf("tenant isolation: another tenant's calls must not change a thread:\nbefore %+v\n after %+v", th0, th1)
	}
	if !reflect.DeepEqual(m0, m1) || !reflect.DeepEqual(d0, d1) || h0 != h1 {
		t.Errorf("tenant isolation: another tenant's calls must not change a message, draft or read horizon")
	}
	if got := a.badge(rules.Scope(staffA.Viewer())); got != badgeA {
		t.Errorf("tenant isolation: another tenant's calls must not change a badge: %d, was %d", got, badgeA)
	}
	if got, err := s.Assignees(a.ctx, a.tenant, job); err != nil || !equalIDs(got, []conversations.StaffID{shared}) {
		t.Errorf("tenant isolation: job ids are per tenant: A's assignees must be unchanged by B's assignment: got %v, %v", got, err)
	}

	// B's staff, with A's ids, see only B.
	for _, v := range []conversations.Staff{staffB, techB} {
		sc := rules.Scope(v.Viewer())
		for _, th := range b.inboxAll(sc, conversations.FilterAll, 1) {
			if th.Tenant != b.tenant || th.ID == thA.ID || th.ID == inA.ID {
				t.Errorf("tenant isolation: %s's inbox lists only its own tenant's threads: got %s of %s", v.Role, th.ID, th.Tenant)
			}
		}
	}
	if got := b.badge(rules.Scope(staffB.Viewer())); got != 1 {
		t.Errorf("tenant isolation: B's badge counts B's thread only: got %d, want 1", got)
	}
	if got := b.badge(rules.Scope(techB.Viewer())); got != 0 {
		t.Errorf("tenant isolation: an assignment to a job id that A also uses must not show A's thread: badge %d", got)
	}
	// A cursor from A's inbox, used by B's viewer, pages B's threads only.
	pa := a.inbox(rules.Scope(staffA.Viewer()), conversations.InboxQuery{Limit: 1})
	if pa.NextCursor == "" {
		t.Fatalf("tenant isolation: A's dispatcher should have a second page")
	}
	later := b.inboundMsg(thB, "later")
	later.CreatedAt = thA.LastMessageAt.AddDate(1, 0, 0)
	_, _, err = s.AppendMessage(b.ctx, later)
	must(t, err, "AppendMessage")
	for _, sc := range []conversations.Scope{rules.Scope(staffB.Viewer()), {Tenant: b.tenant, Staff: shared, AllCustomer: true, AllInternal: true}} {
		pb, err := s.Inbox(b.ctx, sc, conversations.InboxQuery{After: pa.NextCursor})
		must(t, err, "Inbox(foreign cursor)")
		for _, th := range pb.Threads {
			if th.Tenant != b.tenant || slices.Contains([]conversations.ThreadID{thA.ID, inA.ID}, th.ID) {
				t.Errorf("tenant isolation: a cursor from another tenant must not leak its threads: got %s", th.ID)
			}
		}
	}
}
