package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
)

func testVisibleHistory(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	disp := f.staff(conversations.RoleDispatcher)
	tech := f.staff(conversations.RoleTechnician)
	other := f.staff(conversations.RoleTechnician)
	dispScope := conversations.Scope{Tenant: f.tenant, Staff: disp.ID, AllCustomer: true, Participant: true, Assigned: true}
	techScope := conversations.Scope{Tenant: f.tenant, Staff: tech.ID, Participant: true, Assigned: true}
	otherScope := conversations.Scope{Tenant: f.tenant, Staff: other.ID, Participant: true, Assigned: true}

	job := f.job()
	must(t, s.Assign(f.ctx, f.tenant, job, tech.ID), "Assign")
	assigned := f.customer(func(th *conversations.Thread) { th.Jobs = []conversations.JobID{job} })
	for i := range 7 {
		f.inbound(assigned, fmt.Sprintf("m%d", i+1))
	}
	joined := f.customer(func(th *conversations.Thread) { th.Participants = []conversations.StaffID{other.ID} })
	f.inbound(joined, "for the participant")
	internal := f.internal(tech.ID, disp.ID)
	f.note(internal, tech.ID, "internal")
	// Assignments reach customer threads only.
	aboutJob := f.internal(disp.ID)
	must(t, s.LinkJob(f.ctx, f.tenant, aboutJob.ID, job), "LinkJob")
	f.note(aboutJob, disp.ID, "about the job")
	empty := f.customer(func(th *conversations.Thread) { th.Jobs = []conversations.JobID{job} })
	emptyJoined := f.customer(func(th *conversations.Thread) { th.Participants = []conversations.StaffID{other.ID} })

	history := func(sc conversations.Scope, id conversations.ThreadID, q conversations.HistoryQuery) (conversations.HistoryPage, error) {
		t.Helper()
		return s.VisibleHistory(f.ctx, sc, id, q)
	}
	// The allowed page is History's page, in every field, page by page.
	for _, q := range []conversations.HistoryQuery{{}, {Limit: 3}, {Limit: 3, Before: 5}, {Limit: 3, Before: 2}, {Limit: 2, Before: 3}, {Before: 1}} {
		want, err := s.History(f.ctx, f.tenant, assigned.ID, q)
		must(t, err, "History")
		got, err := history(techScope, assigned.ID, q)
		must(t, err, "VisibleHistory")
		if !reflect.DeepEqual(got, want) {
			t.Errorf("VisibleHistory: an allowed thread's page is History's page (query %+v):\n got %+v\nwant %+v", q, got, want)
		}
	}

	cases := []struct {
		name     string
		sc       conversations.Scope
		thread   conversations.ThreadID
		messages int // -1: ErrForbidden
	}{
		{"an assignee sees a customer thread of the job", techScope, assigned.ID, 7},
		{"a dispatcher sees every customer thread", dispScope, joined.ID, 1},
		{"a participant sees a customer thread", otherScope, joined.ID, 1},
		{"a participant sees an internal thread", techScope, internal.ID, 1},
		{"an assignee of a job is not a participant of an internal thread about it", techScope, aboutJob.ID, -1},
		{"a technician does not see an unrelated customer thread", techScope, joined.ID, -1},
		{"a technician does not see an internal thread they are not in", otherScope, internal.ID, -1},
		{"an allowed thread without messages has an empty page", techScope, empty.ID, 0},
		{"a thread the scope does not allow is ErrForbidden, with messages or not", techScope, emptyJoined.ID, -1},
	}
	for _, c := range cases {
		p, err := history(c.sc, c.thread, conversations.HistoryQuery{})
		rule := "VisibleHistory: " + c.name
		if c.messages < 0 {
			wantErr(t, err, conversations.ErrForbidden, rule)
			continue
		}
		must(t, err, rule)
		if len(p.Messages) != c.messages || p.NextBefore != 0 {
			t.Errorf("%s: got %d messages (next %d), want %d", rule, len(p.Messages), p.NextBefore, c.messages)
		}
		for _, m := range p.Messages {
			if m.Thread != c.thread || m.Tenant != f.tenant {
				t.Errorf("%s: the page holds the thread's own messages: got %s/%s", rule, m.Tenant, m.Thread)
			}
		}
	}

	// Access follows the data from the next read on; archiving changes nothing.
	must(t, s.SetArchived(f.ctx, f.tenant, assigned.ID, true), "SetArchived")
	if p, err := history(techScope, assigned.ID, conversations.HistoryQuery{Limit: 2}); err != nil || len(p.Messages) != 2 || p.NextBefore != 6 {
		t.Errorf("VisibleHistory: an archived thread stays readable to whom the scope allows: got %d messages, next %d, %v", len(p.Messages), p.NextBefore, err)
	}
	must(t, s.Unassign(f.ctx, f.tenant, job, tech.ID), "Unassign")
	_, err := history(techScope, assigned.ID, conversations.HistoryQuery{})
	wantErr(t, err, conversations.ErrForbidden, "VisibleHistory: an unassigned technician loses the job's threads at once")
	must(t, s.AddParticipants(f.ctx, f.tenant, assigned.ID, tech.ID), "AddParticipants")
	_, err = history(techScope, assigned.ID, conversations.HistoryQuery{})
	must(t, err, "VisibleHistory: a new participant sees the thread at once")

	// Other businesses' threads do not exist for the scope, whatever it allows.
	g := f.other()
	theirs := g.customer()
	g.inbound(theirs, "theirs")
	all := conversations.Scope{Tenant: f.tenant, Staff: disp.ID, AllCustomer: true, AllInternal: true, Participant: true, Assigned: true}
	_, err = history(all, theirs.ID, conversations.HistoryQuery{})
	wantErr(t, err, conversations.ErrNotFound, "VisibleHistory: another tenant's thread is ErrNotFound")
	_, err = history(all, "thread-missing", conversations.HistoryQuery{})
	wantErr(t, err, conversations.ErrNotFound, "VisibleHistory: an unknown thread is ErrNotFound")
	_, err = history(conversations.Scope{Staff: disp.ID, AllCustomer: true}, assigned.ID, conversations.HistoryQuery{})
	wantErr(t, err, conversations.ErrNotFound, "VisibleHistory: a scope without a tenant finds no thread")

	_, err = history(all, assigned.ID, conversations.HistoryQuery{Limit: conversations.MaxPageSize + 1})
	wantErr(t, err, conversations.ErrInvalid, "VisibleHistory: a Limit above MaxPageSize is ErrInvalid")
	_, err = history(all, assigned.ID, conversations.HistoryQuery{Before: -1})
	wantErr(t, err, conversations.ErrInvalid, "VisibleHistory: a negative Before is ErrInvalid")

	// Every kind of scope agrees with Scope.Allows on every thread.
	for _, id := range []conversations.ThreadID{assigned.ID, joined.ID, internal.ID, aboutJob.ID, empty.ID, emptyJoined.ID} {
		th, err := s.GetThread(f.ctx, f.tenant, id)
		must(t, err, "GetThread")
		for _, sc := range append(extraScopes(f.tenant, tech.ID), extraScopes(f.tenant, other.ID)...) {
			_, err := history(sc, id, conversations.HistoryQuery{Limit: 1})
			if allowed := sc.Allows(th); allowed && err != nil || !allowed && !errors.Is(err, conversations.ErrForbidden) {
				t.Errorf("VisibleHistory must agree with Scope.Allows (%v) for scope %+v on %s thread %s: got %v", allowed, sc, th.Kind, id, err)
			}
		}
	}
}
