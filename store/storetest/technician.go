package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/policy"
)

// The scenarios below follow one technician's inbox and badge through
// everything that changes them after the thread became visible: new
// messages (in and out of time order), archiving, reading, and visibility
// gained after the thread already had messages and reads. A store that
// keeps per-viewer copies of a thread's state must keep them all in step.

// techView is a technician's view of the store: the inbox walked in pages of
// two (so the cursor crosses rows), each row's unread count, and the badge.
type techView struct {
	f  *fixture
	sc conversations.Scope
}

func (f *fixture) techView(tech conversations.Staff) techView {
	return techView{f: f, sc: policy.Default().Scope(tech.Viewer())}
}

// want requires the inbox, newest first, to be exactly rows, the unread
// filter to list exactly those with unread messages, and the badge to be
// their sum.
func (v techView) want(when string, rows ...row) {
	t := v.f.t
	t.Helper()
	if rows == nil {
		rows = []row{}
	}
	got := summary(v.f.inboxAll(v.sc, conversations.FilterAll, 2))
	if !slices.Equal(got, rows) {
		t.Errorf("%s: Inbox must list the technician's threads newest activity first, with their Unread:\n got %v\nwant %v", when, got, rows)
	}
	var unread []row
	var sum int64
	for _, r := range rows {
		if r.Unread > 0 {
			unread = append(unread, r)
		}
		sum += r.Unread
	}
	if unread == nil {
		unread = []row{}
	}
	if got := summary(v.f.inboxAll(v.sc, conversations.FilterUnread, 2)); !slices.Equal(got, unread) {
		t.Errorf("%s: Inbox(FilterUnread) must list exactly the threads with unread messages:\n got %v\nwant %v", when, got, unread)
	}
	if got := v.f.badge(v.sc); got != sum {
		t.Errorf("%s: Badge must be the sum of the inbox's Unread: got %d, want %d", when, got, sum)
	}
}

func testTechnicianInboxFollowsThreads(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	tech := f.staff(conversations.RoleTechnician)
	disp := f.staff(conversations.RoleDispatcher)
	job := f.job()
	must(t, s.Assign(f.ctx, f.tenant, job, tech.ID), "Assign")
	a := f.customer(func(th *conversations.Thread) { th.Jobs = []conversations.JobID{job} })
	b := f.customer(func(th *conversations.Thread) { th.Jobs = []conversations.JobID{job} })
	c := f.customer(func(th *conversations.Thread) { th.Jobs = []conversations.JobID{job} })
	in := f.internal(disp.ID, tech.ID)
	v := f.techView(tech)
	v.want("new threads, no messages", row{in.ID, 0}, row{c.ID, 0}, row{b.ID, 0}, row{a.ID, 0})

	// A message moves its thread to the top, with one more unread.
	f.inbound(a, "one")
	v.want("after a message on the oldest thread", row{a.ID, 1}, row{in.ID, 0}, row{c.ID, 0}, row{b.ID, 0})
	f.inbound(b, "two")
	f.inbound(a, "three")
	note := f.note(in, disp.ID, "note")
	v.want("after messages on three threads", row{in.ID, 1}, row{a.ID, 2}, row{b.ID, 1}, row{c.ID, 0})

	// A message stamped earlier than the thread's last one (a late
	// delivery report of an old SMS) counts as unread but does not move
	// the thread back.
	late := f.inboundMsg(c, "late")
	late.CreatedAt = a.CreatedAt.Add(-time.Hour)
	_, _, err := s.AppendMessage(f.ctx, late)
	must(t, err, "AppendMessage(late)")
	got, err := s.GetThread(f.ctx, f.tenant, c.ID)
	must(t, err, "GetThread")
	if !got.LastMessageAt.Equal(c.LastMessageAt) {
		t.Errorf("AppendMessage: LastMessageAt never moves back: got %v, want %v", got.LastMessageAt, c.LastMessageAt)
	}
	v.want("after a message stamped in the past", row{in.ID, 1}, row{a.ID, 2}, row{b.ID, 1}, row{c.ID, 1})
	page := f.inbox(v.sc, conversations.InboxQuery{Limit: 1})
	if len(page.Threads) != 1 || !page.Threads[0].LastMessageAt.Equal(note.CreatedAt) || page.Threads[0].LastSeq != 1 {
		t.Errorf("Inbox: a row carries its thread's LastMessageAt and LastSeq: got %+v", page.Threads)
	}

	// Reading moves the unread count and the badge, for the reader only.
	_, err = s.MarkRead(f.ctx, f.tenant, tech.ID, a.ID, 1)
	must(t, err, "MarkRead")
	v.want("after reading one of two", row{in.ID, 1}, row{a.ID, 1}, row{b.ID, 1}, row{c.ID, 1})
	_, err = s.MarkRead(f.ctx, f.tenant, disp.ID, in.ID, 1)
	must(t, err, "MarkRead(dispatcher)")
	v.want("after another person's read", row{in.ID, 1}, row{a.ID, 1}, row{b.ID, 1}, row{c.ID, 1})
	_, err = s.MarkRead(f.ctx, f.tenant, tech.ID, in.ID, 99)
	must(t, err, "MarkRead(beyond)")
	_, err = s.MarkRead(f.ctx, f.tenant, tech.ID, a.ID, 0)
	must(t, err, "MarkRead(behind)")
	v.want("after reading all of one, and a read behind the horizon", row{in.ID, 0}, row{a.ID, 1}, row{b.ID, 1}, row{c.ID, 1})

	// Archiving takes a thread out; un-archiving brings it back where it
	// was, with its unread; a new message brings it back on top.
	must(t, s.SetArchived(f.ctx, f.tenant, a.ID, true), "SetArchived")
	v.want("after archiving", row{in.ID, 0}, row{b.ID, 1}, row{c.ID, 1})
	must(t, s.SetArchived(f.ctx, f.tenant, a.ID, false), "SetArchived(false)")
	v.want("after un-archiving", row{in.ID, 0}, row{a.ID, 1}, row{b.ID, 1}, row{c.ID, 1})
	must(t, s.SetArchived(f.ctx, f.tenant, b.ID, true), "SetArchived")
	must(t, s.SetArchived(f.ctx, f.tenant, in.ID, true), "SetArchived(internal)")
	v.want("after archiving two", row{a.ID, 1}, row{c.ID, 1})
	_, err = s.MarkRead(f.ctx, f.tenant, tech.ID, b.ID, 1)
	must(t, err, "MarkRead(archived)")
	f.inbound(b, "back")
	v.want("after a message on an archived thread it had read", row{b.ID, 1}, row{a.ID, 1}, row{c.ID, 1})
	f.note(in, disp.ID, "back")
	v.want("after a note on an archived internal thread", row{in.ID, 1}, row{b.ID, 1}, row{a.ID, 1}, row{c.ID, 1})
}

// testLateVisibility gives a technician a thread that already has messages
// (and their reads of it) in every way one can: as a participant, by an
// assignment to a linked job, by a job linked to a thread, at creation.
func testLateVisibility(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	disp := f.staff(conversations.RoleDispatcher)
	mk := func(n int) conversations.Thread {
		th := f.customer()
		for i := range n {
			f.inbound(th, fmt.Sprint("message ", i))
		}
		return th
	}

	// Participant, after messages and after their own reads.
	tech := f.staff(conversations.RoleTechnician)
	v := f.techView(tech)
	p := mk(3)
	_, err := s.MarkRead(f.ctx, f.tenant, tech.ID, p.ID, 2)
	must(t, err, "MarkRead(before visible)")
	must(t, s.AddParticipants(f.ctx, f.tenant, p.ID, tech.ID), "AddParticipants")
	v.want("participant added after 3 messages and a read of 2", row{p.ID, 1})

	// Assigned to a job already linked to a thread.
	job := f.job()
	a := mk(4)
	must(t, s.LinkJob(f.ctx, f.tenant, a.ID, job), "LinkJob")
	_, err = s.MarkRead(f.ctx, f.tenant, tech.ID, a.ID, 1)
	must(t, err, "MarkRead(before assigned)")
	must(t, s.Assign(f.ctx, f.tenant, job, tech.ID), "Assign")
	v.want("assigned to a linked job after 4 messages and a read of 1", row{a.ID, 3}, row{p.ID, 1})

	// A job already assigned, linked to a thread with messages.
	l := mk(2)
	must(t, s.LinkJob(f.ctx, f.tenant, l.ID, job), "LinkJob")
	v.want("a job of theirs linked to a thread with 2 messages", row{l.ID, 2}, row{a.ID, 3}, row{p.ID, 1})

	// Assignment replaced, unassigned while messages and reads go on, then
	// assigned again: the thread comes back as it is now.
	must(t, s.SetAssignees(f.ctx, f.tenant, job, nil), "SetAssignees(none)")
	v.want("unassigned", row{p.ID, 1})
	f.inbound(a, "while away")
	_, err = s.MarkRead(f.ctx, f.tenant, tech.ID, l.ID, 2)
	must(t, err, "MarkRead(while not visible)")
	must(t, s.SetArchived(f.ctx, f.tenant, l.ID, true), "SetArchived(while not visible)")
	must(t, s.SetAssignees(f.ctx, f.tenant, job, []conversations.StaffID{tech.ID}), "SetAssignees")
	v.want("assigned again", row{a.ID, 4}, row{p.ID, 1})
	must(t, s.SetArchived(f.ctx, f.tenant, l.ID, false), "SetArchived(false)")
	v.want("un-archived", row{a.ID, 4}, row{l.ID, 0}, row{p.ID, 1})

	// Removed as participant, then added again after more messages.
	must(t, s.RemoveParticipant(f.ctx, f.tenant, p.ID, tech.ID), "RemoveParticipant")
	f.inbound(p, "while away")
	f.inbound(p, "still away")
	must(t, s.AddParticipants(f.ctx, f.tenant, p.ID, tech.ID), "AddParticipants(again)")
	v.want("participant again after 2 more messages", row{p.ID, 3}, row{a.ID, 4}, row{l.ID, 0})

	// Another technician, on a thread created with jobs they are assigned
	// to and a participant list naming them, while it already reads
	// archived: visible only once it is back.
	other := f.staff(conversations.RoleTechnician)
	ov := f.techView(other)
	job2 := f.job()
	must(t, s.Assign(f.ctx, f.tenant, job2, other.ID), "Assign")
	n := f.customer(func(th *conversations.Thread) {
		th.Jobs, th.Participants, th.Archived = []conversations.JobID{job2}, []conversations.StaffID{other.ID}, true
	})
	ov.want("a thread created archived")
	f.inbound(n, "hello")
	_, err = s.MarkRead(f.ctx, f.tenant, disp.ID, n.ID, 1)
	must(t, err, "MarkRead(dispatcher)")
	ov.want("after its first message", row{n.ID, 1})
}

// testVisibilityRaces makes a thread visible to a technician in a
// transaction that stays open while a message, a read or an archive of the
// same thread is made outside it: whichever commits first, the technician
// must then see the thread as it is. A store under test that is a
// LockWaiter shows the racing call waiting for the transaction's lock
// before the transaction commits (a call that ends first has not waited,
// and fails the scenario); for any other store a pause gives the racing
// call time to reach the store, and the outcome must be right however long
// it took.
func testVisibilityRaces(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	lw, probe := s.(LockWaiter)
	race := func(what string, grant func(tx conversations.Store) error, other func() error) {
		t.Helper()
		done := make(chan error, 1)
		var early error // the racing call's result, when it ended before the commit
		ended := false
		err := s.Tx(f.ctx, func(tx conversations.Store) error {
			if err := grant(tx); err != nil {
				return err
			}
			go func() { done <- other() }()
			if !probe {
				time.Sleep(250 * time.Millisecond)
				return nil
			}
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				n, err := lw.LockWaits(f.ctx)
				if err != nil {
					return err
				}
				if n > 0 {
					return nil
				}
				select {
				case early = <-done:
					ended = true
					return fmt.Errorf("the racing call ended (error %v) while the transaction that changes the thread's visibility was open: it did not wait for the thread's lock", early)
				default:
				}
				if time.Now().After(deadline) {
					return errors.New("the racing call never waited for the thread's lock")
				}
			}
		})
		must(t, err, what+": Tx")
		if !ended {
			early = <-done
		}
		must(t, early, what+": the racing call")
	}

	tech := f.staff(conversations.RoleTechnician)
	v := f.techView(tech)
	p := f.customer()
	f.inbound(p, "one")
	race("participant added while a message arrives",
		func(tx conversations.Store) error { return tx.AddParticipants(f.ctx, f.tenant, p.ID, tech.ID) },
		func() error { _, _, err := s.AppendMessage(f.ctx, f.inboundMsg(p, "two")); return err })
	v.want("participant added while a message arrived", row{p.ID, 2})

	job := f.job()
	a := f.customer(func(th *conversations.Thread) { th.Jobs = []conversations.JobID{job} })
	f.inbound(a, "one")
	f.inbound(a, "two")
	race("assigned while the thread is read",
		func(tx conversations.Store) error { return tx.Assign(f.ctx, f.tenant, job, tech.ID) },
		func() error { _, err := s.MarkRead(f.ctx, f.tenant, tech.ID, a.ID, 2); return err })
	v.want("assigned while the thread was read", row{a.ID, 0}, row{p.ID, 2})

	l := f.customer()
	f.inbound(l, "one")
	race("job linked while the thread is archived",
		func(tx conversations.Store) error { return tx.LinkJob(f.ctx, f.tenant, l.ID, job) },
		func() error { return s.SetArchived(f.ctx, f.tenant, l.ID, true) })
	v.want("job linked while the thread was archived", row{a.ID, 0}, row{p.ID, 2})

	// The same race through AppendInbound, which a store may answer in one
	// step: the grant commits while the message waits for the thread.
	number := f.number()
	in := f.customer(func(th *conversations.Thread) { th.BusinessNumber = number })
	first := f.inboundMsg(in, "one")
	first.Thread = ""
	_, _, _, err := s.AppendInbound(f.ctx, in, first)
	must(t, err, "AppendInbound")
	race("participant added while an inbound message is filed",
		func(tx conversations.Store) error { return tx.AddParticipants(f.ctx, f.tenant, in.ID, tech.ID) },
		func() error {
			m := f.inboundMsg(in, "two")
			m.Thread = ""
			_, _, _, err := s.AppendInbound(f.ctx, in, m)
			return err
		})
	v.want("participant added while an inbound message was filed", row{in.ID, 2}, row{a.ID, 0}, row{p.ID, 2})
}

// testConcurrentTechnicianCounts races messages, reads from two devices,
// archive toggles, assignment changes and participant changes on the same
// threads, then requires each technician's inbox and badge to agree with
// the threads' LastSeq and their read horizons as the store reports them.
func testConcurrentTechnicianCounts(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	job := f.job()
	var techs []conversations.Staff
	for range 3 {
		techs = append(techs, f.staff(conversations.RoleTechnician))
	}
	threads := []conversations.Thread{
		f.customer(func(th *conversations.Thread) { th.Jobs = []conversations.JobID{job} }),
		f.customer(func(th *conversations.Thread) { th.Jobs = []conversations.JobID{job} }),
		f.customer(),
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	worker := func(seed uint64, op func(rng *rand.Rand) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 2))
			for range 10 {
				if err := op(rng); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	pick := func(rng *rand.Rand) conversations.Thread { return threads[rng.IntN(len(threads))] }
	for i := range 2 {
		worker(uint64(i), func(rng *rand.Rand) error {
			_, _, err := s.AppendMessage(f.ctx, f.inboundMsg(pick(rng), "x"))
			return err
		})
	}
	for i, tech := range techs {
		for device := range 2 {
			worker(uint64(10+2*i+device), func(rng *rand.Rand) error {
				_, err := s.MarkRead(f.ctx, f.tenant, tech.ID, pick(rng).ID, int64(rng.IntN(25)))
				return err
			})
		}
	}
	worker(20, func(rng *rand.Rand) error {
		return s.SetArchived(f.ctx, f.tenant, pick(rng).ID, rng.IntN(2) == 0)
	})
	worker(21, func(rng *rand.Rand) error {
		tech := techs[rng.IntN(len(techs))].ID
		if rng.IntN(2) == 0 {
			return s.Assign(f.ctx, f.tenant, job, tech)
		}
		return s.Unassign(f.ctx, f.tenant, job, tech)
	})
	worker(22, func(rng *rand.Rand) error {
		th, tech := pick(rng).ID, techs[rng.IntN(len(techs))].ID
		if rng.IntN(2) == 0 {
			return s.AddParticipants(f.ctx, f.tenant, th, tech)
		}
		return s.RemoveParticipant(f.ctx, f.tenant, th, tech)
	})
	worker(23, func(rng *rand.Rand) error {
		if rng.IntN(2) == 0 {
			return s.LinkJob(f.ctx, f.tenant, threads[2].ID, job)
		}
		return s.UnlinkJob(f.ctx, f.tenant, threads[2].ID, job)
	})
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("concurrent messages, reads, archives and visibility changes must all succeed: %v", errs)
	}
	for _, th := range threads {
		must(t, s.SetArchived(f.ctx, f.tenant, th.ID, false), "SetArchived(false)")
	}
	for _, tech := range techs {
		v := f.techView(tech)
		var want []row
		for _, th := range threads {
			got, err := s.GetThread(f.ctx, f.tenant, th.ID)
			must(t, err, "GetThread")
			if !v.sc.Allows(got) {
				continue
			}
			h, err := s.ReadHorizon(f.ctx, f.tenant, tech.ID, th.ID)
			must(t, err, "ReadHorizon")
			want = append(want, row{got.ID, got.LastSeq - h})
		}
		got := summary(f.inboxAll(v.sc, conversations.FilterAll, 0))
		slices.SortFunc(got, func(a, b row) int { return compareIDs(a.ID, b.ID) })
		slices.SortFunc(want, func(a, b row) int { return compareIDs(a.ID, b.ID) })
		if !slices.Equal(got, want) {
			t.Errorf("after the race: %s's Inbox must list the threads they may see with LastSeq minus their horizon as Unread:\n got %v\nwant %v",
				tech.ID, got, want)
		}
		var sum int64
		for _, r := range want {
			sum += r.Unread
		}
		if got := f.badge(v.sc); got != sum {
			t.Errorf("after the race: %s's Badge must stay exact: got %d, want %d", tech.ID, got, sum)
		}
	}
}

func compareIDs(a, b conversations.ThreadID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
