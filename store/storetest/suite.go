package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Option configures Run.
type Option func(*options)

type options struct {
	seeds  []int64
	rounds int
}

// Seed adds a seed for the randomized differential test, which always runs
// with a fixed seed as well. Seed(0) picks one from the clock (logged when
// the test fails, so the run can be replayed).
func Seed(seed int64) Option {
	return func(o *options) { o.seeds = append(o.seeds, seed) }
}

// Rounds sets how many rounds of random mutations the differential test
// checks after the initial state (default 3).
func Rounds(n int) Option {
	return func(o *options) {
		if n >= 0 {
			o.rounds = n
		}
	}
}

// fixedSeed always runs, so every implementation meets the same data.
const fixedSeed = 20240601

type scenario struct {
	name string
	fn   func(t *testing.T, s conversations.FastStore)
}

// Run runs the suite. newStore returns a fresh store for one scenario; it
// may register cleanups on the t it is given.
//
// The scenarios call the optional abilities (conversations.InboundAppender
// and the others in conversations/fastpath.go) through
// conversations.WithFallbacks: an ability the store implements is checked
// as its own, one it lacks through the fallback the Service would use, so
// both meet the same rules. The differential also checks that a store's own
// fast paths answer exactly as the fallbacks over its core methods.
func Run(t *testing.T, newStore func(t *testing.T) conversations.Store, opts ...Option) {
	o := options{rounds: 3}
	for _, opt := range opts {
		opt(&o)
	}
	scenarios := []scenario{
		{"Staff", testStaff},
		{"Numbers", testNumbers},
		{"OptOut", testOptOut},
		{"Threads", testThreads},
		{"CustomerThreadRace", testCustomerThreadRace},
		{"Assignments", testAssignments},
		{"AppendMessage", testAppendMessage},
		{"Idempotency", testIdempotency},
		{"ConcurrentAppend", testConcurrentAppend},
		{"AppendInbound", testAppendInbound},
		{"ConcurrentInbound", testConcurrentInbound},
		{"ConcurrentCounters", testConcurrentCounters},
		{"ConcurrentVisibility", testConcurrentVisibility},
		{"Timestamps", testTimestamps},
		{"History", testHistory},
		{"VisibleHistory", testVisibleHistory},
		{"StatusPrecedence", testStatusPrecedence},
		{"ApplyStatus", testApplyStatus},
		{"ApplyStatusFrom", testApplyStatusFrom},
		{"ReadForDelivery", testReadForDelivery},
		{"BadgeAndUnread", testBadgeAndUnread},
		{"InboxPaging", testInboxPaging},
		{"InboxOrder", testInboxOrder},
		{"TechnicianInboxFollowsThreads", testTechnicianInboxFollowsThreads},
		{"LateVisibility", testLateVisibility},
		{"ConcurrentTechnicianCounts", testConcurrentTechnicianCounts},
		{"VisibilityRaces", testVisibilityRaces},
		{"Drafts", testDrafts},
		{"Suggestions", testSuggestions},
		{"Settings", testSettings},
		{"Preferences", testPreferences},
		{"FanOuts", testFanOuts},
		{"TenantIsolation", testTenantIsolation},
		{"Tx", testTx},
	}
	logAbilities(t, newStore(t))
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.fn(t, conversations.WithFallbacks(newStore(t)))
		})
	}
	seeds := append([]int64{fixedSeed}, o.seeds...)
	for _, seed := range seeds {
		if seed == 0 {
			seed = time.Now().UnixNano()
		}
		t.Run(fmt.Sprintf("Differential/seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("storetest: differential test failed with seed %d; replay it with storetest.Seed(%d)", seed, seed)
				}
			})
			testDifferential(t, conversations.WithFallbacks(newStore(t)), seed, o.rounds)
		})
	}
}

// fixture creates uniquely named data in one store for one scenario.
type fixture struct {
	t      *testing.T
	s      conversations.FastStore
	ctx    context.Context
	tenant conversations.TenantID
	mu     *sync.Mutex // guards clock: concurrency scenarios tick from many goroutines
	clock  time.Time
}

func newFixture(t *testing.T, s conversations.FastStore) *fixture {
	return &fixture{
		t: t, s: s, ctx: context.Background(),
		tenant: "tenant-" + conversations.NewID[conversations.TenantID](),
		mu:     &sync.Mutex{},
		clock:  time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC),
	}
}

// other returns a fixture for a second business in the same store.
func (f *fixture) other() *fixture {
	g := newFixture(f.t, f.s)
	g.clock = f.clock
	return g
}

// tick returns successive distinct times (micro-second aligned), so the
// order of events is the order of calls.
func (f *fixture) tick() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock = f.clock.Add(time.Second)
	return f.clock
}

func (f *fixture) staff(role conversations.Role) conversations.Staff {
	f.t.Helper()
	st := conversations.Staff{
		Tenant: f.tenant, ID: "staff-" + conversations.NewID[conversations.StaffID](),
		Name: string(role), Role: role, CreatedAt: f.tick(),
	}
	must(f.t, f.s.PutStaff(f.ctx, st), "PutStaff")
	return st
}

func (f *fixture) job() conversations.JobID {
	return "job-" + conversations.NewID[conversations.JobID]()
}

// customer creates a customer thread for a new customer address.
func (f *fixture) customer(edit ...func(*conversations.Thread)) conversations.Thread {
	f.t.Helper()
	th := conversations.Thread{
		ID: conversations.NewID[conversations.ThreadID](), Tenant: f.tenant, Kind: conversations.ThreadCustomer,
		BusinessNumber: "+15550000000",
		Contact:        conversations.Contact{Phone: "+1555" + string(conversations.NewID[conversations.ThreadID]()), Name: "Customer"},
		CreatedAt:      f.tick(),
	}
	for _, e := range edit {
		e(&th)
	}
	must(f.t, f.s.CreateThread(f.ctx, th), "CreateThread(customer)")
	got, err := f.s.GetThread(f.ctx, f.tenant, th.ID)
	must(f.t, err, "GetThread after CreateThread")
	return got
}

// internal creates an internal thread among staff.
func (f *fixture) internal(staff ...conversations.StaffID) conversations.Thread {
	f.t.Helper()
	th := conversations.Thread{
		ID: conversations.NewID[conversations.ThreadID](), Tenant: f.tenant, Kind: conversations.ThreadInternal,
		Subject: "internal", Participants: staff, CreatedAt: f.tick(),
	}
	if len(staff) > 0 {
		th.CreatedBy = staff[0]
	}
	must(f.t, f.s.CreateThread(f.ctx, th), "CreateThread(internal)")
	got, err := f.s.GetThread(f.ctx, f.tenant, th.ID)
	must(f.t, err, "GetThread after CreateThread")
	return got
}

// inbound appends a customer's SMS to a customer thread.
func (f *fixture) inbound(th conversations.Thread, body string) conversations.Message {
	f.t.Helper()
	m, created, err := f.s.AppendMessage(f.ctx, f.inboundMsg(th, body))
	must(f.t, err, "AppendMessage(inbound)")
	if !created {
		f.t.Fatalf("AppendMessage: a new inbound message must be created")
	}
	return m
}

func (f *fixture) inboundMsg(th conversations.Thread, body string) conversations.Message {
	return conversations.Message{
		ID: conversations.NewID[conversations.MessageID](), Tenant: f.tenant, Thread: th.ID,
		Kind: conversations.KindCustomerSMS, Direction: conversations.DirectionInbound,
		Channel: conversations.ChannelSMS, AuthorType: conversations.AuthorCustomer,
		Body: body, Source: conversations.SourceProvider, From: th.Contact.Phone, To: th.BusinessNumber,
		CreatedAt: f.tick(), Status: conversations.StatusReceived,
		ProviderID: "SM" + string(conversations.NewID[conversations.MessageID]()),
	}
}

// outboundMsg is a staff member's SMS to a customer thread, queued.
func (f *fixture) outboundMsg(th conversations.Thread, author conversations.StaffID, body string) conversations.Message {
	return conversations.Message{
		ID: conversations.NewID[conversations.MessageID](), Tenant: f.tenant, Thread: th.ID,
		Kind: conversations.KindCustomerSMS, Direction: conversations.DirectionOutbound,
		Channel: conversations.ChannelSMS, AuthorType: conversations.AuthorStaff, Author: author,
		Body: body, Source: conversations.SourceMobile, From: th.BusinessNumber, To: th.Contact.Phone,
		CreatedAt: f.tick(), Status: conversations.StatusQueued,
		ClientID: "client-" + string(conversations.NewID[conversations.MessageID]()),
	}
}

// note appends an internal message by author.
func (f *fixture) note(th conversations.Thread, author conversations.StaffID, body string) conversations.Message {
	f.t.Helper()
	m, _, err := f.s.AppendMessage(f.ctx, f.noteMsg(th, author, body))
	must(f.t, err, "AppendMessage(internal)")
	return m
}

func (f *fixture) noteMsg(th conversations.Thread, author conversations.StaffID, body string) conversations.Message {
	return conversations.Message{
		ID: conversations.NewID[conversations.MessageID](), Tenant: f.tenant, Thread: th.ID,
		Kind: conversations.KindInternal, Direction: conversations.DirectionOutbound,
		Channel: conversations.ChannelInApp, AuthorType: conversations.AuthorStaff, Author: author,
		Body: body, Source: conversations.SourceMobile, CreatedAt: f.tick(), Status: conversations.StatusSent,
	}
}

func (f *fixture) inbox(sc conversations.Scope, q conversations.InboxQuery) conversations.InboxPage {
	f.t.Helper()
	p, err := f.s.Inbox(f.ctx, sc, q)
	must(f.t, err, "Inbox")
	return p
}

// inboxAll walks every page of an inbox with the cursor.
func (f *fixture) inboxAll(sc conversations.Scope, filter conversations.InboxFilter, limit int) []conversations.Thread {
	f.t.Helper()
	return walkInbox(f.t, f.ctx, f.s, sc, filter, limit)
}

func walkInbox(t *testing.T, ctx context.Context, s conversations.Store, sc conversations.Scope, filter conversations.InboxFilter, limit int) []conversations.Thread {
	t.Helper()
	var out []conversations.Thread
	after := ""
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatalf("Inbox: the cursor must make progress; still paging after 1000 pages")
		}
		p, err := s.Inbox(ctx, sc, conversations.InboxQuery{Filter: filter, Limit: limit, After: after})
		must(t, err, "Inbox")
		if limit > 0 && len(p.Threads) > limit {
			t.Fatalf("Inbox: a page holds at most Limit threads: got %d with Limit %d", len(p.Threads), limit)
		}
		out = append(out, p.Threads...)
		if p.NextCursor == "" {
			return out
		}
		if len(p.Threads) == 0 {
			t.Fatalf("Inbox: an empty page must be the last (NextCursor %q)", p.NextCursor)
		}
		after = p.NextCursor
	}
}

func (f *fixture) badge(sc conversations.Scope) int64 {
	f.t.Helper()
	n, err := f.s.Badge(f.ctx, sc)
	must(f.t, err, "Badge")
	return n
}

func ids(ts []conversations.Thread) []conversations.ThreadID {
	out := make([]conversations.ThreadID, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

// wantErr requires err to wrap sentinel; rule names what was being checked.
func wantErr(t *testing.T, err, sentinel error, rule string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Errorf("%s: want an error wrapping %q, got %v", rule, sentinel, err)
	}
}

func equalIDs[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// LockWaiter is an optional ability of a store under test (not of
// conversations.Store): how many sessions of its database wait for a lock
// now (on PostgreSQL, pg_stat_activity's wait_event_type 'Lock'). With it,
// the visibility-race scenario holds its transaction open until the racing
// call waits for that transaction's lock, instead of pausing.
type LockWaiter interface {
	LockWaits(ctx context.Context) (int, error)
}
