package storetest

import (
	"slices"
	"sync"
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
)

func testThreads(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	a := f.staff(conversations.RoleTechnician)
	b := f.staff(conversations.RoleTechnician)
	c := f.staff(conversations.RoleDispatcher)
	j1, j2 := f.job(), f.job()
	must(t, s.Assign(f.ctx, f.tenant, j1, c.ID, a.ID), "Assign")

	th := f.customer(func(th *conversations.Thread) {
		th.Participants = []conversations.StaffID{b.ID, a.ID, b.ID}
		th.Jobs = []conversations.JobID{j2, j1}
		th.Contact.Email = "c@example.com"
		th.Contact.Ref = "crm-1"
	})
	if th.Kind != conversations.ThreadCustomer || th.Tenant != f.tenant || th.Contact.Ref != "crm-1" || th.Contact.Email != "c@example.com" {
		t.Errorf("CreateThread/GetThread: the thread must read back as written: got %+v", th)
	}
	if want := sorted(a.ID, b.ID); !equalIDs(th.Participants, want) {
		t.Errorf("GetThread: Participants are the thread's staff, sorted, once each: got %v, want %v", th.Participants, want)
	}
	if want := sorted(j1, j2); !equalIDs(th.Jobs, want) {
		t.Errorf("GetThread: Jobs are the linked jobs, sorted: got %v, want %v", th.Jobs, want)
	}
	if want := sorted(a.ID, c.ID); !equalIDs(th.Assignees, want) {
		t.Errorf("GetThread: Assignees are the linked jobs' assignees, sorted: got %v, want %v", th.Assignees, want)
	}
	if th.LastSeq != 0 || th.Archived || !th.LastMessageAt.Equal(th.CreatedAt) {
		t.Errorf("CreateThread: a new thread has no messages and its LastMessageAt is its CreatedAt: got %+v", th)
	}

	err := s.CreateThread(f.ctx, conversations.Thread{ID: th.ID, Tenant: f.tenant, Kind: conversations.ThreadInternal})
	wantErr(t, err, conversations.ErrConflict, "CreateThread: an existing thread id is ErrConflict")
	err = s.CreateThread(f.ctx, conversations.Thread{ID: conversations.NewID[conversations.ThreadID](), Tenant: f.tenant,
		Kind: conversations.ThreadCustomer, BusinessNumber: th.BusinessNumber, Contact: th.Contact})
	wantErr(t, err, conversations.ErrConflict, "CreateThread: a second customer thread for one business number and address is ErrConflict")
	err = s.CreateThread(f.ctx, conversations.Thread{ID: conversations.NewID[conversations.ThreadID](), Tenant: f.tenant, Kind: "group"})
	wantErr(t, err, conversations.ErrInvalid, "CreateThread: an unknown kind is ErrInvalid")
	_, err = s.GetThread(f.ctx, f.tenant, "thread-missing")
	wantErr(t, err, conversations.ErrNotFound, "GetThread: an unknown id is ErrNotFound")

	// Participants and job links change; GetThread follows.
	must(t, s.RemoveParticipant(f.ctx, f.tenant, th.ID, b.ID), "RemoveParticipant")
	must(t, s.RemoveParticipant(f.ctx, f.tenant, th.ID, b.ID), "RemoveParticipant(again)")
	must(t, s.AddParticipants(f.ctx, f.tenant, th.ID, c.ID, a.ID), "AddParticipants")
	must(t, s.UnlinkJob(f.ctx, f.tenant, th.ID, j1), "UnlinkJob")
	must(t, s.LinkJob(f.ctx, f.tenant, th.ID, j2), "LinkJob(again)")
	got, err := s.GetThread(f.ctx, f.tenant, th.ID)
	must(t, err, "GetThread")
	if want := sorted(a.ID, c.ID); !equalIDs(got.Participants, want) {
		t.Errorf("AddParticipants/RemoveParticipant: got participants %v, want %v", got.Participants, want)
	}
	if want := []conversations.JobID{j2}; !equalIDs(got.Jobs, want) {
		t.Errorf("UnlinkJob/LinkJob: got jobs %v, want %v", got.Jobs, want)
	}
	if len(got.Assignees) != 0 {
		t.Errorf("UnlinkJob: the unlinked job's assignees are no longer the thread's: got %v", got.Assignees)
	}
	err = s.AddParticipants(f.ctx, f.tenant, "thread-missing", a.ID)
	wantErr(t, err, conversations.ErrNotFound, "AddParticipants: an unknown thread is ErrNotFound")
	err = s.LinkJob(f.ctx, f.tenant, "thread-missing", j1)
	wantErr(t, err, conversations.ErrNotFound, "LinkJob: an unknown thread is ErrNotFound")
	err = s.SetArchived(f.ctx, f.tenant, "thread-missing", true)
	wantErr(t, err, conversations.ErrNotFound, "SetArchived: an unknown thread is ErrNotFound")

	// CustomerThread finds, or creates, the one thread per key.
	found, created, err := s.CustomerThread(f.ctx, conversations.Thread{Tenant: f.tenant, BusinessNumber: th.BusinessNumber,
		Contact: conversations.Contact{Phone: th.Contact.Phone}})
	must(t, err, "CustomerThread")
	if created || found.ID != th.ID {
		t.Errorf("CustomerThread: an existing key must return its thread, created=false: got %s created=%v, want %s", found.ID, created, th.ID)
	}
	email, created, err := s.CustomerThread(f.ctx, conversations.Thread{Tenant: f.tenant, BusinessNumber: "support@example.com",
		Contact: conversations.Contact{Email: "who@example.com", Name: "Who"}, Participants: []conversations.StaffID{a.ID}})
	must(t, err, "CustomerThread(email)")
	if !created || email.ID == "" || email.Kind != conversations.ThreadCustomer || email.Contact.Email != "who@example.com" ||
		!equalIDs(email.Participants, []conversations.StaffID{a.ID}) {
		t.Errorf("CustomerThread: a new key creates a customer thread keyed by email when there is no phone: got %+v created=%v", email, created)
	}
	again, created, err := s.CustomerThread(f.ctx, conversations.Thread{Tenant: f.tenant, BusinessNumber: "support@example.com",
		Contact: conversations.Contact{Email: "who@example.com"}})
	must(t, err, "CustomerThread(email again)")
	if created || again.ID != email.ID {
		t.Errorf("CustomerThread: the email key must find its thread: got %s created=%v, want %s", again.ID, created, email.ID)
	}
	otherNumber, created, err := s.CustomerThread(f.ctx, conversations.Thread{Tenant: f.tenant, BusinessNumber: "+15550009999",
		Contact: conversations.Contact{Phone: th.Contact.Phone}})
	must(t, err, "CustomerThread(other number)")
	if !created || otherNumber.ID == th.ID {
		t.Errorf("CustomerThread: the key includes the business number: a second number gets its own thread")
	}
	_, _, err = s.CustomerThread(f.ctx, conversations.Thread{Tenant: f.tenant, BusinessNumber: "+15550009999"})
	wantErr(t, err, conversations.ErrInvalid, "CustomerThread: no phone and no email is ErrInvalid")
}

func testCustomerThreadRace(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	key := conversations.Thread{Tenant: f.tenant, BusinessNumber: "+15550000000",
		Contact: conversations.Contact{Phone: "+1555" + string(conversations.NewID[conversations.ThreadID]())}}
	const n = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		got     []conversations.ThreadID
		created int
		errs    []error
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			th, c, err := s.CustomerThread(f.ctx, key)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			got = append(got, th.ID)
			if c {
				created++
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("CustomerThread: concurrent calls for one key must all succeed: %v", errs)
	}
	if created != 1 {
		t.Errorf("CustomerThread: concurrent calls for one key create exactly one thread: %d said created", created)
	}
	for _, id := range got {
		if id != got[0] {
			t.Fatalf("CustomerThread: concurrent calls for one key must return the same thread: got %v", got)
		}
	}
}

func testAssignments(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	a := f.staff(conversations.RoleTechnician)
	b := f.staff(conversations.RoleTechnician)
	c := f.staff(conversations.RoleTechnician)
	j := f.job()
	th := f.customer(func(th *conversations.Thread) { th.Jobs = []conversations.JobID{j} })
	tech := func(st conversations.Staff) conversations.Scope {
		return conversations.Scope{Tenant: f.tenant, Staff: st.ID, Participant: true, Assigned: true}
	}
	sees := func(st conversations.Staff) bool {
		return slices.Contains(ids(f.inboxAll(tech(st), conversations.FilterAll, 0)), th.ID)
	}
	assignees := func() []conversations.StaffID {
		got, err := s.Assignees(f.ctx, f.tenant, j)
		must(t, err, "Assignees")
		return got
	}

	must(t, s.Assign(f.ctx, f.tenant, j, b.ID, a.ID, a.ID), "Assign")
	if want := sorted(a.ID, b.ID); !equalIDs(assignees(), want) {
		t.Errorf("Assign/Assignees: assignees ordered by id, once each: got %v, want %v", assignees(), want)
	}
	if !sees(a) || !sees(b) || sees(c) {
		t.Errorf("Assign: a job's assignees see its customer thread on the next read, others do not")
	}
	must(t, s.Unassign(f.ctx, f.tenant, j, a.ID, c.ID), "Unassign")
	if want := []conversations.StaffID{b.ID}; !equalIDs(assignees(), want) {
		t.Errorf("Unassign: got %v, want %v", assignees(), want)
	}
	if sees(a) {
		t.Errorf("Unassign: an unassigned technician no longer sees the thread")
	}
	must(t, s.SetAssignees(f.ctx, f.tenant, j, []conversations.StaffID{c.ID, a.ID}), "SetAssignees")
	if want := sorted(a.ID, c.ID); !equalIDs(assignees(), want) {
		t.Errorf("SetAssignees: replaces the assignees: got %v, want %v", assignees(), want)
	}
	if !sees(a) || sees(b) || !sees(c) {
		t.Errorf("SetAssignees: visibility follows the new assignees")
	}
	got, err := s.GetThread(f.ctx, f.tenant, th.ID)
	must(t, err, "GetThread")
	if want := sorted(a.ID, c.ID); !equalIDs(got.Assignees, want) {
		t.Errorf("GetThread: Assignees follow SetAssignees: got %v, want %v", got.Assignees, want)
	}
	must(t, s.SetAssignees(f.ctx, f.tenant, j, nil), "SetAssignees(nil)")
	if len(assignees()) != 0 || sees(a) || sees(c) {
		t.Errorf("SetAssignees: an empty list clears the assignees and their visibility")
	}
	// A participant keeps seeing the thread after losing the assignment.
	must(t, s.Assign(f.ctx, f.tenant, j, a.ID), "Assign")
	must(t, s.AddParticipants(f.ctx, f.tenant, th.ID, a.ID), "AddParticipants")
	must(t, s.Unassign(f.ctx, f.tenant, j, a.ID), "Unassign")
	if !sees(a) {
		t.Errorf("Unassign: a participant still sees the thread after losing the assignment")
	}
	must(t, s.RemoveParticipant(f.ctx, f.tenant, th.ID, a.ID), "RemoveParticipant")
	if sees(a) {
		t.Errorf("RemoveParticipant: with neither assignment nor participation the thread is gone")
	}
	// Assignments reach customer threads only.
	in := f.internal(b.ID)
	must(t, s.LinkJob(f.ctx, f.tenant, in.ID, j), "LinkJob(internal)")
	must(t, s.Assign(f.ctx, f.tenant, j, c.ID), "Assign")
	if slices.Contains(ids(f.inboxAll(tech(c), conversations.FilterAll, 0)), in.ID) {
		t.Errorf("Scope.Assigned: an assignment shows customer threads only, never an internal thread linked to the job")
	}
}

func sorted[T ~string](v ...T) []T {
	out := slices.Clone(v)
	slices.Sort(out)
	return slices.Compact(out)
}
