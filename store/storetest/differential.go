package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/policy"
)

// The differential test drives a store and an in-memory model with the same
// random operations and requires the store's answers to equal the model's.
// The model is built only from what the test did, never read back from the
// store, and its visibility is conversations.Scope.Allows itself.

type mThread struct {
	th           conversations.Thread // summary fields: ID, Kind, LastMessageAt, LastSeq, Archived, Preview
	participants map[conversations.StaffID]bool
	jobs         map[conversations.JobID]bool
	contact      conversations.Contact     // a customer thread's customer
	messages     []conversations.MessageID // by seq, from 1
}

type mTenant struct {
	id      conversations.TenantID
	number  string // the business's SMS number
	staff   []conversations.Staff
	jobs    []conversations.JobID
	assign  map[conversations.JobID]map[conversations.StaffID]bool
	threads []*mThread
	reads   map[conversations.StaffID]map[conversations.ThreadID]int64
	// A PreferenceStore's mutes, and who excludes muted threads from
	// their badge (empty for a store without one).
	mutes   map[conversations.StaffID]map[conversations.ThreadID]bool
	exclude map[conversations.StaffID]bool
}

// full returns the thread as GetThread must: with sorted Participants, Jobs
// and Assignees.
func (m *mTenant) full(t *mThread) conversations.Thread {
	th := t.th
	th.Participants, th.Jobs, th.Assignees = nil, nil, nil
	assignees := map[conversations.StaffID]bool{}
	for p := range t.participants {
		th.Participants = append(th.Participants, p)
	}
	for j := range t.jobs {
		th.Jobs = append(th.Jobs, j)
		for s := range m.assign[j] {
			assignees[s] = true
		}
	}
	for s := range assignees {
		th.Assignees = append(th.Assignees, s)
	}
	slices.Sort(th.Participants)
	slices.Sort(th.Jobs)
	slices.Sort(th.Assignees)
	return th
}

func (m *mTenant) unread(staff conversations.StaffID, t *mThread) int64 {
	return t.th.LastSeq - m.reads[staff][t.th.ID]
}

// expect returns the inbox the model says sc sees under filter, in order.
func (m *mTenant) expect(sc conversations.Scope, filter conversations.InboxFilter) []row {
	var ts []*mThread
	for _, t := range m.threads {
		if t.th.Archived || !sc.Allows(m.full(t)) {
			continue
		}
		switch filter {
		case conversations.FilterCustomer:
			if t.th.Kind != conversations.ThreadCustomer {
				continue
			}
		case conversations.FilterInternal:
			if t.th.Kind != conversations.ThreadInternal {
				continue
			}
		case conversations.FilterUnread:
			if m.unread(sc.Staff, t) == 0 {
				continue
			}
		}
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b *mThread) int {
		if c := b.th.LastMessageAt.Compare(a.th.LastMessageAt); c != 0 {
			return c
		}
		switch {
		case a.th.ID > b.th.ID:
			return -1
		case a.th.ID < b.th.ID:
			return 1
		}
		return 0
	})
	out := make([]row, len(ts))
	for i, t := range ts {
		out[i] = row{t.th.ID, m.unread(sc.Staff, t)}
	}
	return out
}

// badge sums the inbox's unread counts, without muted threads for a staff
// member who excludes them (the inbox itself keeps them, with their counts).
func (m *mTenant) badge(sc conversations.Scope) int64 {
	var n int64
	for _, r := range m.expect(sc, conversations.FilterAll) {
		if m.exclude[sc.Staff] && m.mutes[sc.Staff][r.ID] {
			continue
		}
		n += r.Unread
	}
	return n
}

type differential struct {
	t     *testing.T
	s     conversations.FastStore
	plain conversations.FastStore // s's core methods only, through the fallbacks
	// fallbacks: this check also asks plain, and requires its answers to
	// be s's (the last check only: a fallback reads thread by thread, and
	// s's answers are held to the model at every check)
	fallbacks bool
	ctx       context.Context
	rng       *rand.Rand
	tenants   []*mTenant
	clock     time.Time
	step      int
}

func testDifferential(t *testing.T, s conversations.FastStore, seed int64, rounds int) {
	d := &differential{
		t: t, s: s, plain: conversations.WithFallbacks(Plain(s)), ctx: context.Background(),
		rng:   rand.New(rand.NewPCG(uint64(seed), 0x5eed)),
		clock: time.Date(2024, 6, 1, 8, 0, 0, 0, time.UTC),
	}
	run := conversations.NewID[conversations.TenantID]()
	// Two businesses that share staff ids and job ids: a query that forgets
	// its tenant anywhere shows up as a difference.
	for i := range 2 {
		d.tenants = append(d.tenants, d.setup(conversations.TenantID(fmt.Sprintf("diff-%s-%d", run, i)), string(run)))
	}
	d.check("initial state")
	for r := range rounds {
		for _, m := range d.tenants {
			for range 12 + d.rng.IntN(10) {
				d.mutate(m)
			}
		}
		d.fallbacks = r == rounds-1
		d.check(fmt.Sprintf("after mutation round %d", r+1))
	}
}

// at returns a time in a narrow window, so many threads share a
// LastMessageAt and the id tie-break is exercised; sub-second parts of
// varying length exercise the stored time format.
func (d *differential) at() time.Time {
	d.step++
	sec := d.rng.IntN(40)
	var frac time.Duration
	switch d.rng.IntN(4) {
	case 1:
		frac = time.Duration(d.rng.IntN(10)) * 100 * time.Millisecond
	case 2:
		frac = time.Duration(d.rng.IntN(1_000_000)) * time.Microsecond
	}
	return d.clock.Add(time.Duration(sec)*time.Second + frac)
}

func (d *differential) setup(tenant conversations.TenantID, run string) *mTenant {
	m := &mTenant{
		id:      tenant,
		number:  fmt.Sprintf("+1555%07d", len(d.tenants)),
		assign:  map[conversations.JobID]map[conversations.StaffID]bool{},
		reads:   map[conversations.StaffID]map[conversations.ThreadID]int64{},
		mutes:   map[conversations.StaffID]map[conversations.ThreadID]bool{},
		exclude: map[conversations.StaffID]bool{},
	}
	roles := []conversations.Role{conversations.RoleTechnician, conversations.RoleTechnician, conversations.RoleTechnician,
		conversations.RoleDispatcher, conversations.RoleAdmin}
	must(d.t, d.s.PutNumber(d.ctx, conversations.BusinessNumber{Tenant: tenant, Number: m.number, Channel: conversations.ChannelSMS}), "PutNumber")
	for i := range 6 {
		role := roles[d.rng.IntN(len(roles))]
		if i == 0 {
			role = conversations.RoleDispatcher
		}
		if i == 1 {
			role = conversations.RoleTechnician
		}
		st := conversations.Staff{Tenant: tenant, ID: conversations.StaffID(fmt.Sprintf("s-%s-%d", run, i)), Role: role, Name: fmt.Sprint(i)}
		must(d.t, d.s.PutStaff(d.ctx, st), "PutStaff")
		m.staff = append(m.staff, st)
		m.reads[st.ID] = map[conversations.ThreadID]int64{}
	}
	for i := range 8 {
		j := conversations.JobID(fmt.Sprintf("j-%s-%d", run, i))
		m.jobs = append(m.jobs, j)
		m.assign[j] = map[conversations.StaffID]bool{}
		staff := d.someStaff(m, 3)
		if len(staff) > 0 {
			if d.rng.IntN(2) == 0 {
				must(d.t, d.s.Assign(d.ctx, tenant, j, staff...), "Assign")
			} else {
				must(d.t, d.s.SetAssignees(d.ctx, tenant, j, staff), "SetAssignees")
			}
			for _, s := range staff {
				m.assign[j][s] = true
			}
		}
	}
	for i := range 22 {
		kind := conversations.ThreadCustomer
		if i%4 == 3 {
			kind = conversations.ThreadInternal
		}
		d.newThread(m, kind, i)
	}
	for range 40 {
		d.appendMessage(m)
	}
	for range 25 {
		d.markRead(m)
	}
	for range 4 {
		d.archive(m)
	}
	for range 8 {
		d.mute(m)
	}
	for range 3 {
		d.excludeMuted(m)
	}
	// The extra scopes are checked as staff[0]: make sure they meet mutes
	// that count.
	if ps, ok := d.s.(conversations.PreferenceStore); ok {
		first := m.staff[0].ID
		for range 4 {
			t := d.pickThread(m)
			must(d.t, ps.SetMuted(d.ctx, m.id, first, t.th.ID, true, d.at()), "SetMuted")
			if m.mutes[first] == nil {
				m.mutes[first] = map[conversations.ThreadID]bool{}
			}
			m.mutes[first][t.th.ID] = true
		}
		if !m.exclude[first] {
			d.excludeMutedOf(m, first)
		}
	}
	return m
}

func (d *differential) someStaff(m *mTenant, max int) []conversations.StaffID {
	var out []conversations.StaffID
	for range d.rng.IntN(max + 1) {
		out = append(out, m.staff[d.rng.IntN(len(m.staff))].ID)
	}
	return out
}

func (d *differential) someJobs(m *mTenant, max int) []conversations.JobID {
	var out []conversations.JobID
	for range d.rng.IntN(max + 1) {
		out = append(out, m.jobs[d.rng.IntN(len(m.jobs))])
	}
	return out
}

func (d *differential) newThread(m *mTenant, kind conversations.ThreadKind, i int) {
	created := d.at()
	th := conversations.Thread{
		ID: conversations.NewID[conversations.ThreadID](), Tenant: m.id, Kind: kind, CreatedAt: created,
	}
	var participants []conversations.StaffID
	var jobs []conversations.JobID
	if kind == conversations.ThreadCustomer {
		th.BusinessNumber = m.number
		th.Contact = conversations.Contact{Phone: fmt.Sprintf("+1555100%04d", i)}
		participants = d.someStaff(m, 1)
		jobs = d.someJobs(m, 2)
	} else {
		participants = d.someStaff(m, 3)
		if d.rng.IntN(4) == 0 {
			// An internal thread linked to a job: its assignees must still
			// not see it through the assignment.
			jobs = d.someJobs(m, 1)
		}
	}
	// Half the threads get their links at creation, half afterwards.
	atCreate := d.rng.IntN(2) == 0
	if atCreate {
		th.Participants, th.Jobs = participants, jobs
	}
	if kind == conversations.ThreadCustomer && d.rng.IntN(2) == 0 {
		got, created, err := d.s.CustomerThread(d.ctx, th)
		must(d.t, err, "CustomerThread")
		if !created {
			d.t.Fatalf("CustomerThread: a new customer key must create a thread")
		}
		th.ID = got.ID
	} else {
		must(d.t, d.s.CreateThread(d.ctx, th), "CreateThread")
	}
	if !atCreate {
		if len(participants) > 0 {
			must(d.t, d.s.AddParticipants(d.ctx, m.id, th.ID, participants...), "AddParticipants")
		}
		for _, j := range jobs {
			must(d.t, d.s.LinkJob(d.ctx, m.id, th.ID, j), "LinkJob")
		}
	}
	mt := &mThread{
		th:           conversations.Thread{ID: th.ID, Tenant: m.id, Kind: kind, LastMessageAt: created},
		participants: map[conversations.StaffID]bool{},
		jobs:         map[conversations.JobID]bool{},
		contact:      th.Contact,
	}
	for _, p := range participants {
		mt.participants[p] = true
	}
	for _, j := range jobs {
		mt.jobs[j] = true
	}
	m.threads = append(m.threads, mt)
}

func (d *differential) pickThread(m *mTenant) *mThread { return m.threads[d.rng.IntN(len(m.threads))] }
func (d *differential) pickStaff(m *mTenant) conversations.StaffID {
	return m.staff[d.rng.IntN(len(m.staff))].ID
}

func (d *differential) appendMessage(m *mTenant) {
	t := d.pickThread(m)
	at := d.at()
	msg := conversations.Message{
		ID: conversations.NewID[conversations.MessageID](), Tenant: m.id, Thread: t.th.ID,
		Body: fmt.Sprintf("message %d", d.step), CreatedAt: at,
	}
	if t.th.Kind == conversations.ThreadCustomer {
		msg.Kind, msg.Direction, msg.Channel = conversations.KindCustomerSMS, conversations.DirectionInbound, conversations.ChannelSMS
		msg.AuthorType, msg.Status, msg.Source = conversations.AuthorCustomer, conversations.StatusReceived, conversations.SourceProvider
		msg.ProviderID = "SM" + string(msg.ID)
	} else {
		msg.Kind, msg.Direction, msg.Channel = conversations.KindInternal, conversations.DirectionOutbound, conversations.ChannelInApp
		msg.AuthorType, msg.Author, msg.Status = conversations.AuthorStaff, d.pickStaff(m), conversations.StatusSent
	}
	var (
		got     conversations.Message
		created bool
		err     error
	)
	if t.th.Kind == conversations.ThreadCustomer && d.rng.IntN(2) == 0 {
		// As a webhook files it: by the customer's address, no thread id.
		msg.Thread = ""
		var th conversations.Thread
		th, got, created, err = d.s.AppendInbound(d.ctx, conversations.Thread{
			Tenant: m.id, Kind: conversations.ThreadCustomer, BusinessNumber: m.number, Contact: t.contact,
		}, msg)
		must(d.t, err, "AppendInbound")
		if th.ID != t.th.ID || got.Thread != t.th.ID {
			d.t.Fatalf("AppendInbound: routes to the customer's thread %s: got thread %s, message in %s", t.th.ID, th.ID, got.Thread)
		}
	} else {
		got, created, err = d.s.AppendMessage(d.ctx, msg)
		must(d.t, err, "AppendMessage")
	}
	t.th.LastSeq++
	t.messages = append(t.messages, got.ID)
	if !created || got.Seq != t.th.LastSeq {
		d.t.Fatalf("AppendMessage: a new message takes the thread's next seq: got %d created=%v, want %d", got.Seq, created, t.th.LastSeq)
	}
	if at.After(t.th.LastMessageAt) {
		t.th.LastMessageAt = at
	}
	t.th.Archived = false
	t.th.Preview = msg.Body
}

func (d *differential) markRead(m *mTenant) {
	t := d.pickThread(m)
	staff := d.pickStaff(m)
	seq := int64(d.rng.IntN(int(t.th.LastSeq) + 3))
	got, err := d.s.MarkRead(d.ctx, m.id, staff, t.th.ID, seq)
	must(d.t, err, "MarkRead")
	want := max(m.reads[staff][t.th.ID], min(seq, t.th.LastSeq))
	m.reads[staff][t.th.ID] = want
	if got != want {
		d.t.Errorf("MarkRead: the horizon moves forward only, clamped to LastSeq: got %d, want %d", got, want)
	}
}

func (d *differential) archive(m *mTenant) {
	t := d.pickThread(m)
	archived := d.rng.IntN(3) != 0
	must(d.t, d.s.SetArchived(d.ctx, m.id, t.th.ID, archived), "SetArchived")
	t.th.Archived = archived
}

func (d *differential) mutate(m *mTenant) {
	switch d.rng.IntN(13) {
	case 0: // unassign
		j := m.jobs[d.rng.IntN(len(m.jobs))]
		staff := d.someStaff(m, 2)
		must(d.t, d.s.Unassign(d.ctx, m.id, j, staff...), "Unassign")
		for _, s := range staff {
			delete(m.assign[j], s)
		}
	case 1: // assign
		j := m.jobs[d.rng.IntN(len(m.jobs))]
		staff := d.someStaff(m, 2)
		must(d.t, d.s.Assign(d.ctx, m.id, j, staff...), "Assign")
		for _, s := range staff {
			m.assign[j][s] = true
		}
	case 2: // replace assignees
		j := m.jobs[d.rng.IntN(len(m.jobs))]
		staff := d.someStaff(m, 3)
		must(d.t, d.s.SetAssignees(d.ctx, m.id, j, staff), "SetAssignees")
		m.assign[j] = map[conversations.StaffID]bool{}
		for _, s := range staff {
			m.assign[j][s] = true
		}
	case 3: // remove a participant
		t := d.pickThread(m)
		s := d.pickStaff(m)
		for p := range t.participants {
			if d.rng.IntN(2) == 0 {
				s = p
			}
		}
		must(d.t, d.s.RemoveParticipant(d.ctx, m.id, t.th.ID, s), "RemoveParticipant")
		delete(t.participants, s)
	case 4: // add participants
		t := d.pickThread(m)
		staff := d.someStaff(m, 2)
		if len(staff) == 0 {
			return
		}
		must(d.t, d.s.AddParticipants(d.ctx, m.id, t.th.ID, staff...), "AddParticipants")
		for _, s := range staff {
			t.participants[s] = true
		}
	case 5: // unlink a job
		t := d.pickThread(m)
		j := m.jobs[d.rng.IntN(len(m.jobs))]
		for linked := range t.jobs {
			if d.rng.IntN(2) == 0 {
				j = linked
			}
		}
		must(d.t, d.s.UnlinkJob(d.ctx, m.id, t.th.ID, j), "UnlinkJob")
		delete(t.jobs, j)
	case 6: // link a job
		t := d.pickThread(m)
		j := m.jobs[d.rng.IntN(len(m.jobs))]
		must(d.t, d.s.LinkJob(d.ctx, m.id, t.th.ID, j), "LinkJob")
		t.jobs[j] = true
	case 7:
		d.archive(m)
	case 8, 9:
		d.appendMessage(m)
	case 10:
		d.markRead(m)
	case 11:
		d.mute(m)
	case 12:
		d.excludeMuted(m)
	}
}

// mute mutes or unmutes a thread for someone, when the store keeps mutes.
func (d *differential) mute(m *mTenant) {
	ps, ok := d.s.(conversations.PreferenceStore)
	if !ok {
		return
	}
	t, staff, muted := d.pickThread(m), d.pickStaff(m), d.rng.IntN(3) != 0
	must(d.t, ps.SetMuted(d.ctx, m.id, staff, t.th.ID, muted, d.at()), "SetMuted")
	if m.mutes[staff] == nil {
		m.mutes[staff] = map[conversations.ThreadID]bool{}
	}
	m.mutes[staff][t.th.ID] = muted
}

// excludeMuted flips someone's "exclude muted threads from the badge".
func (d *differential) excludeMuted(m *mTenant) {
	if _, ok := d.s.(conversations.PreferenceStore); !ok {
		return
	}
	d.excludeMutedOf(m, d.pickStaff(m))
}

func (d *differential) excludeMutedOf(m *mTenant, staff conversations.StaffID) {
	ps := d.s.(conversations.PreferenceStore)
	m.exclude[staff] = !m.exclude[staff]
	must(d.t, ps.PutPreferences(d.ctx, conversations.Preferences{Tenant: m.id, Staff: staff,
		ExcludeMutedFromBadge: m.exclude[staff], UpdatedAt: d.at()}), "PutPreferences")
}

// extraScopes are Scope combinations policy.Default never makes; the store
// must answer them too (with its general query where it has no fast path).
func extraScopes(tenant conversations.TenantID, staff conversations.StaffID) []conversations.Scope {
	var out []conversations.Scope
	for bits := range 16 {
		out = append(out, conversations.Scope{
			Tenant: tenant, Staff: staff,
			AllCustomer: bits&1 != 0, AllInternal: bits&2 != 0, Participant: bits&4 != 0, Assigned: bits&8 != 0,
		})
	}
	return out
}

var filters = []conversations.InboxFilter{
	conversations.FilterAll, conversations.FilterUnread, conversations.FilterCustomer, conversations.FilterInternal,
}

func (d *differential) check(when string) {
	t := d.t
	t.Helper()
	rules := policy.Default()
	// Badges answers for many scopes at once, across businesses, with
	// empty scopes among them (zero), exactly as Badge does one by one.
	var (
		scopes []conversations.Scope
		want   []int64
	)
	for _, n := range d.tenants {
		for _, st := range n.staff {
			sc := rules.Scope(st.Viewer())
			scopes, want = append(scopes, sc), append(want, n.badge(sc))
		}
		for _, x := range extraScopes(n.id, n.staff[0].ID) {
			scopes, want = append(scopes, x), append(want, n.badge(x))
		}
	}
	scopes, want = append(scopes, conversations.Scope{Tenant: d.tenants[0].id}), append(want, 0)
	got, err := d.s.Badges(d.ctx, scopes)
	must(t, err, "Badges")
	if d.fallbacks {
		fallback, err := d.plain.Badges(d.ctx, scopes)
		must(t, err, "Badges (fallback)")
		if !slices.Equal(got, fallback) {
			t.Errorf("%s: Badges must answer as Badge does scope by scope (the fallback):\n got %v\nwant %v", when, got, fallback)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: Badges must equal each scope's badge, in order:\n got %v\nwant %v", when, got, want)
	}
	for _, m := range d.tenants {
		for _, mt := range m.threads {
			got, err := d.s.GetThread(d.ctx, m.id, mt.th.ID)
			must(t, err, "GetThread")
			want := m.full(mt)
			if !equalIDs(got.Participants, want.Participants) || !equalIDs(got.Jobs, want.Jobs) ||
				!equalIDs(got.Assignees, want.Assignees) {
				t.Errorf("%s: GetThread must return the thread's Participants, Jobs and Assignees:\n got %v %v %v\nwant %v %v %v",
					when, got.Participants, got.Jobs, got.Assignees, want.Participants, want.Jobs, want.Assignees)
			}
			if got.LastSeq != want.LastSeq || got.Archived != want.Archived || !got.LastMessageAt.Equal(want.LastMessageAt) ||
				(want.LastSeq > 0 && got.Preview != want.Preview) || got.Kind != want.Kind {
				t.Errorf("%s: GetThread summary: got seq %d archived %v at %v preview %q, want seq %d archived %v at %v preview %q",
					when, got.LastSeq, got.Archived, got.LastMessageAt, got.Preview, want.LastSeq, want.Archived, want.LastMessageAt, want.Preview)
			}
		}
		d.compareThreads(m, when)
		for i, st := range m.staff {
			sc := rules.Scope(st.Viewer())
			for _, f := range filters {
				d.compareInbox(m, sc, f, 3, fmt.Sprintf("%s: %s %s, filter %q, page size 3", when, st.Role, st.ID, f))
			}
			d.compareInbox(m, sc, conversations.FilterAll, 0, fmt.Sprintf("%s: %s %s, default page size", when, st.Role, st.ID))
			d.compareBadge(m, sc, fmt.Sprintf("%s: %s %s", when, st.Role, st.ID))
			for _, mt := range m.threads {
				d.compareHistory(m, sc, mt, 2, fmt.Sprintf("%s: %s %s", when, st.Role, st.ID))
			}
			d.compareVisible(m, sc, fmt.Sprintf("%s: %s %s", when, st.Role, st.ID))
			if i < 2 {
				for _, x := range extraScopes(m.id, st.ID) {
					label := fmt.Sprintf("%s: scope %+v", when, x)
					d.compareInbox(m, x, conversations.FilterAll, 4, label)
					d.compareInbox(m, x, conversations.FilterUnread, 5, label+" unread")
					d.compareBadge(m, x, label)
					for _, mt := range m.threads {
						d.compareHistory(m, x, mt, 0, label)
					}
					d.compareVisible(m, x, label)
				}
			}
		}
		// The other business's threads do not exist for this one's staff.
		sc := rules.Scope(m.staff[0].Viewer())
		for _, other := range d.tenants {
			if other == m {
				continue
			}
			for _, mt := range other.threads {
				_, err := d.s.VisibleHistory(d.ctx, sc, mt.th.ID, conversations.HistoryQuery{})
				if !errors.Is(err, conversations.ErrNotFound) {
					t.Errorf("%s: VisibleHistory of another tenant's thread must be ErrNotFound: got %v", when, err)
				}
			}
		}
	}
}

// compareThreads asks GetThreads for every thread of every business, in
// reverse, each twice, and an unknown id: m's threads, in the order asked,
// once each, each as GetThread returns it (and as the fallback, GetThread
// for each, does).
func (d *differential) compareThreads(m *mTenant, when string) {
	d.t.Helper()
	ids := []conversations.ThreadID{"no-such-thread"}
	for _, other := range d.tenants {
		for _, mt := range other.threads {
			ids = append(ids, mt.th.ID, mt.th.ID)
		}
	}
	slices.Reverse(ids)
	got, err := d.s.GetThreads(d.ctx, m.id, ids)
	if err != nil {
		d.t.Errorf("%s: GetThreads: %v", when, err)
		return
	}
	var want []conversations.Thread
	seen := map[conversations.ThreadID]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		t, err := d.s.GetThread(d.ctx, m.id, id)
		if errors.Is(err, conversations.ErrNotFound) {
			continue
		}
		must(d.t, err, "GetThread")
		want = append(want, t)
	}
	if !reflect.DeepEqual(got, want) {
		d.t.Errorf("%s: GetThreads must return the business's threads asked for, in order, once each, as GetThread does:\n got %v\nwant %v", when, got, want)
	}
	if d.fallbacks {
		if fallback, err := d.plain.GetThreads(d.ctx, m.id, ids); err != nil || !reflect.DeepEqual(got, fallback) {
			d.t.Errorf("%s: GetThreads must answer as the fallback (GetThread for each) does:\n got %v\nwant %v (%v)", when, got, fallback, err)
		}
	}
}

// compareVisible asks VisibleThreads about every thread of every business
// (and an unknown id), each twice: exactly m's threads sc.Allows, archived or
// not, sorted, once each.
func (d *differential) compareVisible(m *mTenant, sc conversations.Scope, label string) {
	ids := []conversations.ThreadID{"no-such-thread"}
	var want []conversations.ThreadID
	for _, other := range d.tenants {
		for _, mt := range other.threads {
			ids = append(ids, mt.th.ID, mt.th.ID)
			if other == m && sc.Allows(m.full(mt)) {
				want = append(want, mt.th.ID)
			}
		}
	}
	slices.Sort(want)
	got, err := d.s.VisibleThreads(d.ctx, sc, ids)
	if err != nil {
		d.t.Errorf("%s: VisibleThreads: %v", label, err)
		return
	}
	if d.fallbacks {
		if fallback, err := d.plain.VisibleThreads(d.ctx, sc, ids); err != nil || !slices.Equal(got, fallback) {
			d.t.Errorf("%s: VisibleThreads must answer as GetThread and Scope.Allows do (the fallback):\n got %v\nwant %v (%v)", label, got, fallback, err)
		}
	}
	if !slices.Equal(got, want) {
		d.t.Errorf("%s: VisibleThreads must return exactly the threads Scope.Allows, sorted:\n got %v\nwant %v", label, got, want)
	}
}

// compareHistory reads a thread with VisibleHistory, page by page (limit
// per page, 0 for the default), as sc's viewer: the thread's messages, newest
// first, when sc.Allows it (archived or not), ErrForbidden when not.
func (d *differential) compareHistory(m *mTenant, sc conversations.Scope, mt *mThread, limit int, label string) {
	d.t.Helper()
	label = fmt.Sprintf("%s, history of %s thread %s", label, mt.th.Kind, mt.th.ID)
	if !sc.Allows(m.full(mt)) {
		_, err := d.s.VisibleHistory(d.ctx, sc, mt.th.ID, conversations.HistoryQuery{Limit: limit})
		if !errors.Is(err, conversations.ErrForbidden) {
			d.t.Errorf("%s: VisibleHistory of a thread Scope.Allows not must be ErrForbidden: got %v", label, err)
		}
		if !d.fallbacks {
			return
		}
		if _, err := d.plain.VisibleHistory(d.ctx, sc, mt.th.ID, conversations.HistoryQuery{Limit: limit}); !errors.Is(err, conversations.ErrForbidden) {
			d.t.Errorf("%s: the fallback VisibleHistory of a thread Scope.Allows not must be ErrForbidden: got %v", label, err)
		}
		return
	}
	var got []conversations.MessageID
	q := conversations.HistoryQuery{Limit: limit}
	for {
		p, err := d.s.VisibleHistory(d.ctx, sc, mt.th.ID, q)
		if err != nil {
			d.t.Errorf("%s: VisibleHistory of a thread Scope.Allows must be its page: got %v", label, err)
			return
		}
		if d.fallbacks {
			if fp, err := d.plain.VisibleHistory(d.ctx, sc, mt.th.ID, q); err != nil || !sameMessages(p.Messages, fp.Messages) || p.NextBefore != fp.NextBefore {
				d.t.Errorf("%s: VisibleHistory must answer as GetThread, Scope.Allows and History do (the fallback): %v", label, err)
			}
		}
		for _, msg := range p.Messages {
			if msg.Thread != mt.th.ID || msg.Tenant != m.id {
				d.t.Errorf("%s: VisibleHistory returned a message of %s/%s", label, msg.Tenant, msg.Thread)
			}
			got = append(got, msg.ID)
		}
		if p.NextBefore == 0 || len(got) > len(mt.messages) {
			break
		}
		q.Before = p.NextBefore
	}
	want := slices.Clone(mt.messages)
	slices.Reverse(want)
	if !slices.Equal(got, want) {
		d.t.Errorf("%s: VisibleHistory pages must hold the thread's messages, newest first:\n got %v\nwant %v", label, got, want)
	}
}

func (d *differential) compareInbox(m *mTenant, sc conversations.Scope, f conversations.InboxFilter, limit int, label string) {
	d.t.Helper()
	got := walkInbox(d.t, d.ctx, d.s, sc, f, limit)
	want := m.expect(sc, f)
	if !slices.Equal(summary(got), want) {
		d.t.Errorf("%s: Inbox must list exactly the non-archived threads Scope.Allows, newest first, with the viewer's Unread:\n got %v\nwant %v",
			label, summary(got), want)
		return
	}
	byID := map[conversations.ThreadID]*mThread{}
	for _, t := range m.threads {
		byID[t.th.ID] = t
	}
	for _, th := range got {
		mt := byID[th.ID]
		if th.LastSeq != mt.th.LastSeq || !th.LastMessageAt.Equal(mt.th.LastMessageAt) || th.Kind != mt.th.Kind || th.Tenant != m.id ||
			(mt.th.LastSeq > 0 && th.Preview != mt.th.Preview) {
			d.t.Errorf("%s: Inbox rows carry the thread's summary: got %+v, want %+v", label, th, mt.th)
		}
	}
}

func (d *differential) compareBadge(m *mTenant, sc conversations.Scope, label string) {
	d.t.Helper()
	got, err := d.s.Badge(d.ctx, sc)
	must(d.t, err, "Badge")
	if want := m.badge(sc); got != want {
		d.t.Errorf("%s: Badge must equal the sum of Unread over the threads Scope.Allows: got %d, want %d", label, got, want)
	}
}

// sameMessages reports whether two pages hold the same messages in the
// same order, as they were stored (id, seq, status).
func sameMessages(a, b []conversations.Message) bool {
	return slices.EqualFunc(a, b, func(x, y conversations.Message) bool {
		return x.ID == y.ID && x.Seq == y.Seq && x.Status == y.Status && x.Body == y.Body
	})
}
