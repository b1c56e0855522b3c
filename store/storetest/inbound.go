package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// number provisions a fresh SMS number to the fixture's business.
func (f *fixture) number() string {
	f.t.Helper()
	n := "+1555" + string(conversations.NewID[conversations.TenantID]())[:8] + "7"
	must(f.t, f.s.PutNumber(f.ctx, conversations.BusinessNumber{Tenant: f.tenant, Number: n, Channel: conversations.ChannelSMS}), "PutNumber")
	return n
}

// arriving is what a webhook knows of a customer's message: the business's
// number and the customer's, no thread yet.
func (f *fixture) arriving(number, from, body string) (conversations.Thread, conversations.Message) {
	th := conversations.Thread{
		ID: conversations.NewID[conversations.ThreadID](), Tenant: f.tenant, Kind: conversations.ThreadCustomer,
		BusinessNumber: number, Contact: conversations.Contact{Phone: from}, CreatedAt: f.tick(),
	}
	m := f.inboundMsg(th, body)
	m.Thread = ""
	return th, m
}

func testAppendInbound(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	disp := f.staff(conversations.RoleDispatcher)
	all := conversations.Scope{Tenant: f.tenant, Staff: disp.ID, AllCustomer: true, Participant: true}
	number := f.number()
	from := "+1555" + string(conversations.NewID[conversations.ThreadID]())[:8] + "1"

	// Refused: nothing may change.
	th, m := f.arriving("+15559999999", from, "to a number nobody has")
	_, _, _, err := s.AppendInbound(f.ctx, th, m)
	wantErr(t, err, conversations.ErrNotFound, "AppendInbound: a number not provisioned to the tenant is ErrNotFound")
	g := f.other()
	th, m = g.arriving(number, from, "to another business's number")
	_, _, _, err = s.AppendInbound(f.ctx, th, m)
	wantErr(t, err, conversations.ErrNotFound, "AppendInbound: another tenant's number is ErrNotFound")
	th, m = f.arriving(number, from, "no provider id")
	m.ProviderID = ""
	_, _, _, err = s.AppendInbound(f.ctx, th, m)
	wantErr(t, err, conversations.ErrInvalid, "AppendInbound: an inbound message without a provider id is ErrInvalid")
	th, m = f.arriving(number, from, "outbound")
	m.Direction = conversations.DirectionOutbound
	_, _, _, err = s.AppendInbound(f.ctx, th, m)
	wantErr(t, err, conversations.ErrInvalid, "AppendInbound: an outbound message is ErrInvalid")
	th, m = f.arriving(number, from, "wrong tenant")
	m.Tenant = g.tenant
	_, _, _, err = s.AppendInbound(f.ctx, th, m)
	wantErr(t, err, conversations.ErrInvalid, "AppendInbound: a message of another tenant than its thread is ErrInvalid")
	if p := f.inbox(all, conversations.InboxQuery{}); len(p.Threads) != 0 || f.badge(all) != 0 {
		t.Fatalf("AppendInbound: a refused message changes nothing: inbox %v, badge %d", ids(p.Threads), f.badge(all))
	}

	// First contact creates the thread; later messages find it.
	th, m = f.arriving(number, from, "Is anyone coming today?")
	got, first, created, err := s.AppendInbound(f.ctx, th, m)
	must(t, err, "AppendInbound(first contact)")
	if !created || first.Seq != 1 || first.Thread != th.ID || got.ID != th.ID || got.LastSeq != 1 ||
		got.Contact.Phone != from || got.BusinessNumber != number || got.Kind != conversations.ThreadCustomer {
		t.Fatalf("AppendInbound: first contact creates the thread from t and files seq 1: thread %+v message seq %d thread %s created=%v",
			got, first.Seq, first.Thread, created)
	}
	th2, m2 := f.arriving(number, from, "Hello?\n  anyone")
	got2, second, created, err := s.AppendInbound(f.ctx, th2, m2)
	must(t, err, "AppendInbound(second)")
	if !created || second.Seq != 2 || second.Thread != th.ID || got2.ID != th.ID || got2.LastSeq != 2 ||
		got2.Preview != "Hello? anyone" || !got2.LastMessageAt.Equal(m2.CreatedAt) {
		t.Fatalf("AppendInbound: a known customer's message goes to their thread as the next seq, and the thread row returned is after it: %+v, message %+v", got2, second)
	}
	stored, err := s.GetMessage(f.ctx, f.tenant, m2.ID)
	must(t, err, "GetMessage")
	if stored.Seq != 2 || stored.Body != m2.Body || stored.ProviderID != m2.ProviderID || stored.Thread != th.ID || !stored.CreatedAt.Equal(m2.CreatedAt) {
		t.Errorf("AppendInbound: the message reads back as filed: %+v", stored)
	}
	if second.ID != m2.ID || !second.CreatedAt.Equal(m2.CreatedAt) || second.Status != conversations.StatusReceived {
		t.Errorf("AppendInbound: returns the message as stored: %+v", second)
	}

	// Without a tenant, the number's business is the tenant.
	th6, m6 := f.arriving(number, from, "routed by the number alone")
	th6.Tenant, m6.Tenant = "", ""
	got6, routed, created, err := s.AppendInbound(f.ctx, th6, m6)
	must(t, err, "AppendInbound(no tenant)")
	if !created || routed.Tenant != f.tenant || got6.Tenant != f.tenant || got6.ID != th.ID || routed.Seq != 3 {
		t.Fatalf("AppendInbound: without a tenant the message goes to the number's business: thread %+v, message %+v", got6, routed)
	}
	if stored, err := s.GetMessage(f.ctx, f.tenant, m6.ID); err != nil || stored.Seq != 3 {
		t.Errorf("AppendInbound: the message routed by its number is stored in the business: %+v %v", stored, err)
	}
	lost, lostMsg := f.arriving("+15559999998", from, "nobody's number")
	lost.Tenant, lostMsg.Tenant = "", ""
	_, _, _, err = s.AppendInbound(f.ctx, lost, lostMsg)
	wantErr(t, err, conversations.ErrNotFound, "AppendInbound: without a tenant, a number nobody has is ErrNotFound")
	// A repeat of the provider id changes nothing and returns the first.
	th3, again := f.arriving(number, from, "a repeat")
	again.ProviderID = m2.ProviderID
	got3, dup, created, err := s.AppendInbound(f.ctx, th3, again)
	must(t, err, "AppendInbound(repeat)")
	if created || dup.ID != m2.ID || dup.Seq != 2 || got3.ID != th.ID || got3.LastSeq != 3 {
		t.Errorf("AppendInbound: a repeated provider id returns the first message, created=false: %+v created=%v thread %+v", dup, created, got3)
	}
	if b := f.badge(all); b != 3 {
		t.Errorf("AppendInbound: the badge counts each message once: got %d, want 3", b)
	}

	// An archived thread comes back with its whole history in the badge.
	must(t, s.SetArchived(f.ctx, f.tenant, th.ID, true), "SetArchived")
	if b := f.badge(all); b != 0 {
		t.Fatalf("Badge: an archived thread counts nothing: got %d", b)
	}
	th4, m4 := f.arriving(number, from, "back again")
	got4, revived, created, err := s.AppendInbound(f.ctx, th4, m4)
	must(t, err, "AppendInbound(archived)")
	if !created || revived.Seq != 4 || got4.ID != th.ID || got4.Archived {
		t.Errorf("AppendInbound: a message to an archived thread un-archives it: %+v, seq %d", got4, revived.Seq)
	}
	if b := f.badge(all); b != 4 {
		t.Errorf("AppendInbound: a revived thread's whole history is unread again: got %d, want 4", b)
	}
	if p := f.inbox(all, conversations.InboxQuery{}); len(p.Threads) != 1 || p.Threads[0].ID != th.ID || p.Threads[0].Unread != 4 {
		t.Errorf("AppendInbound: the thread is in the inbox with its unread: %+v", p.Threads)
	}

	// Inside a transaction, a repeat leaves the transaction usable and a
	// rollback undoes the filing.
	th5, m5 := f.arriving(number, from, "in a transaction")
	err = s.Tx(f.ctx, func(tx conversations.Store) error {
		if _, _, created, err := conversations.WithFallbacks(tx).AppendInbound(f.ctx, th3, again); err != nil || created {
			t.Errorf("AppendInbound in Tx: a repeat is created=false without error: %v %v", created, err)
		}
		if _, _, _, err := conversations.WithFallbacks(tx).AppendInbound(f.ctx, th5, m5); err != nil {
			return err
		}
		return errRollback
	})
	wantErr(t, err, errRollback, "Tx: returns fn's error")
	if _, err := s.GetMessage(f.ctx, f.tenant, m5.ID); err == nil {
		t.Errorf("AppendInbound in Tx: a rolled-back filing leaves no message")
	}
	if b := f.badge(all); b != 4 {
		t.Errorf("AppendInbound in Tx: a rolled-back filing leaves the counters: got %d, want 4", b)
	}

	newcomer, first3 := f.arriving(number, "+1555"+string(conversations.NewID[conversations.ThreadID]())[:8]+"3", "first contact, no tenant")
	newcomer.Tenant, first3.Tenant = "", ""
	got7, m7, created, err := s.AppendInbound(f.ctx, newcomer, first3)
	must(t, err, "AppendInbound(first contact, no tenant)")
	if !created || got7.Tenant != f.tenant || m7.Tenant != f.tenant || m7.Seq != 1 {
		t.Errorf("AppendInbound: a first contact without a tenant creates the thread in the number's business: %+v %+v", got7, m7)
	}
}

// testConcurrentInbound sends a new customer's messages, and repeats of
// them, at once: one thread, every message once, dense seqs.
func testConcurrentInbound(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	disp := f.staff(conversations.RoleDispatcher)
	number := f.number()
	from := "+1555" + string(conversations.NewID[conversations.ThreadID]())[:8] + "2"
	const distinct, repeats = 6, 3
	msgs := make([]conversations.Message, distinct)
	threads := make([]conversations.Thread, distinct)
	for i := range msgs {
		threads[i], msgs[i] = f.arriving(number, from, fmt.Sprintf("message %d", i))
	}
	type result struct {
		thread  conversations.ThreadID
		msg     conversations.MessageID
		created bool
		err     error
	}
	results := make([]result, distinct*repeats)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := i % distinct
			m := msgs[k]
			m.ID = conversations.NewID[conversations.MessageID]() // each attempt is a new filing of the same provider id
			th, got, created, err := s.AppendInbound(f.ctx, threads[k], m)
			results[i] = result{th.ID, got.ID, created, err}
		}()
	}
	wg.Wait()
	winner := map[int]conversations.MessageID{}
	var thread conversations.ThreadID
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("AppendInbound: concurrent filings must all succeed: %v", r.err)
		}
		if thread == "" {
			thread = r.thread
		}
		if r.thread != thread {
			t.Fatalf("AppendInbound: one customer, one thread: got %s and %s", thread, r.thread)
		}
		k := i % distinct
		if w, ok := winner[k]; ok && w != r.msg {
			t.Fatalf("AppendInbound: every repeat returns the one stored message: %s and %s", w, r.msg)
		}
		winner[k] = r.msg
	}
	createdCount := 0
	for _, r := range results {
		if r.created {
			createdCount++
		}
	}
	if createdCount != distinct {
		t.Errorf("AppendInbound: each provider id is created exactly once: %d created, want %d", createdCount, distinct)
	}
	h, err := s.History(f.ctx, f.tenant, thread, conversations.HistoryQuery{Limit: conversations.MaxPageSize})
	must(t, err, "History")
	if len(h.Messages) != distinct {
		t.Fatalf("AppendInbound: every distinct message is stored once: got %d, want %d", len(h.Messages), distinct)
	}
	for i, m := range h.Messages {
		if want := int64(distinct - i); m.Seq != want {
			t.Fatalf("AppendInbound: seqs stay dense under concurrent filings: %v", seqs(h.Messages))
		}
	}
	if b := f.badge(conversations.Scope{Tenant: f.tenant, Staff: disp.ID, AllCustomer: true}); b != distinct {
		t.Errorf("AppendInbound: counters stay exact under concurrent filings: badge %d, want %d", b, distinct)
	}
}
