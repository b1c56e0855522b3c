package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// testConcurrentCounters races appends, reads from two devices per person,
// and archive toggles on the same customer threads, then requires every
// badge (kept by counters for dispatchers) to equal the sum recomputed from
// the threads' LastSeq and each person's read horizon.
func testConcurrentCounters(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	var people []conversations.Staff
	for range 3 {
		people = append(people, f.staff(conversations.RoleDispatcher))
	}
	threads := []conversations.Thread{f.customer(), f.customer()}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	worker := func(seed uint64, op func(rng *rand.Rand) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 1))
			for range 12 {
				if err := op(rng); err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	for i := range 2 {
		worker(uint64(i), func(rng *rand.Rand) error {
			th := threads[rng.IntN(len(threads))]
			_, _, err := s.AppendMessage(f.ctx, f.inboundMsg(th, "x"))
			return err
		})
	}
	for i, p := range people {
		for device := range 2 {
			worker(uint64(10+2*i+device), func(rng *rand.Rand) error {
				th := threads[rng.IntN(len(threads))]
				_, err := s.MarkRead(f.ctx, f.tenant, p.ID, th.ID, int64(rng.IntN(30)))
				return err
			})
		}
	}
	worker(99, func(rng *rand.Rand) error {
		return s.SetArchived(f.ctx, f.tenant, threads[rng.IntN(len(threads))].ID, rng.IntN(2) == 0)
	})
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("concurrent appends, reads and archives must all succeed: %v", errs)
	}
	check := func(when string) {
		for _, p := range people {
			var want int64
			for _, th := range threads {
				got, err := s.GetThread(f.ctx, f.tenant, th.ID)
				must(t, err, "GetThread")
				h, err := s.ReadHorizon(f.ctx, f.tenant, p.ID, th.ID)
				must(t, err, "ReadHorizon")
				if h > got.LastSeq {
					t.Errorf("MarkRead: a horizon never passes LastSeq: %d > %d", h, got.LastSeq)
				}
				if !got.Archived {
					want += got.LastSeq - h
				}
			}
			sc := conversations.Scope{Tenant: f.tenant, Staff: p.ID, AllCustomer: true, Participant: true}
			if got := f.badge(sc); got != want {
				t.Errorf("%s: Badge must stay exact under concurrent appends, reads and archives: got %d, want %d", when, got, want)
			}
		}
	}
	check("after the race")
	for _, th := range threads {
		must(t, s.SetArchived(f.ctx, f.tenant, th.ID, false), "SetArchived(false)")
	}
	check("after un-archiving")
}

// testConcurrentVisibility links a job to threads while its assignees change
// at the same time: every assignee must end up seeing every linked thread.
func testConcurrentVisibility(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	job := f.job()
	var staff []conversations.Staff
	for range 4 {
		staff = append(staff, f.staff(conversations.RoleTechnician))
	}
	var threads []conversations.Thread
	for range 4 {
		threads = append(threads, f.customer())
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	run := func(op func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := op(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	for _, th := range threads {
		run(func() error { return s.LinkJob(f.ctx, f.tenant, th.ID, job) })
	}
	for _, st := range staff {
		run(func() error { return s.Assign(f.ctx, f.tenant, job, st.ID) })
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("concurrent LinkJob and Assign must all succeed: %v", errs)
	}
	want := ids(threads)
	slices.Sort(want)
	for _, st := range staff {
		got := ids(f.inboxAll(conversations.Scope{Tenant: f.tenant, Staff: st.ID, Participant: true, Assigned: true}, conversations.FilterAll, 0))
		slices.Sort(got)
		if !equalIDs(got, want) {
			t.Errorf("Assign/LinkJob racing: each assignee sees every thread linked to the job: %s sees %v, want %v",
				st.ID, got, want)
		}
	}
	// And concurrent unassignment and unlinking leave nothing behind.
	for _, th := range threads[:2] {
		run(func() error { return s.UnlinkJob(f.ctx, f.tenant, th.ID, job) })
	}
	for _, st := range staff[:2] {
		run(func() error { return s.Unassign(f.ctx, f.tenant, job, st.ID) })
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("concurrent UnlinkJob and Unassign must all succeed: %v", errs)
	}
	for i, st := range staff {
		got := f.inboxAll(conversations.Scope{Tenant: f.tenant, Staff: st.ID, Participant: true, Assigned: true}, conversations.FilterAll, 0)
		wantN := 2
		if i < 2 {
			wantN = 0
		}
		if len(got) != wantN {
			t.Errorf("UnlinkJob/Unassign racing: %s must see %d threads, sees %s", st.ID, wantN, fmt.Sprint(ids(got)))
		}
	}
}
