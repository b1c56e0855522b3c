package storetest

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

func testAppendMessage(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	tech := f.staff(conversations.RoleTechnician)
	th := f.customer()
	in := f.inboundMsg(th, "Is the technician\non the way?")
	in.Media = []conversations.Media{{URL: "https://example.com/a.jpg", ContentType: "image/jpeg"}}
	m1, created, err := s.AppendMessage(f.ctx, in)
	must(t, err, "AppendMessage")
	if !created || m1.Seq != 1 {
		t.Errorf("AppendMessage: the first message is created with Seq 1: got seq %d created=%v", m1.Seq, created)
	}
	got, err := s.GetMessage(f.ctx, f.tenant, in.ID)
	must(t, err, "GetMessage")
	want := in
	want.Seq = 1
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AppendMessage/GetMessage: every field must read back as written:\n got %+v\nwant %+v", got, want)
	}
	out := f.outboundMsg(th, tech.ID, strings.Repeat("é", 100))
	out.Job, out.Subject = "job-x", "subject"
	m2, _, err := s.AppendMessage(f.ctx, out)
	must(t, err, "AppendMessage")
	if m2.Seq != 2 {
		t.Errorf("AppendMessage: seqs are dense per thread: got %d, want 2", m2.Seq)
	}
	got, err = s.GetMessage(f.ctx, f.tenant, out.ID)
	must(t, err, "GetMessage")
	want = out
	want.Seq = 2
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AppendMessage/GetMessage: every field must read back as written:\n got %+v\nwant %+v", got, want)
	}
	thr, err := s.GetThread(f.ctx, f.tenant, th.ID)
	must(t, err, "GetThread")
	if thr.LastSeq != 2 || !thr.LastMessageAt.Equal(out.CreatedAt) {
		t.Errorf("AppendMessage: moves the thread's LastSeq and LastMessageAt: got %d %v", thr.LastSeq, thr.LastMessageAt)
	}
	if want := strings.Repeat("é", 80); thr.Preview != want {
		t.Errorf("AppendMessage: the preview is the start of the newest message (80 characters): got %q", thr.Preview)
	}
	// A message older than the thread's activity keeps LastMessageAt monotonic.
	late := f.inboundMsg(th, "late")
	late.CreatedAt = th.CreatedAt.Add(-time.Hour)
	m3, _, err := s.AppendMessage(f.ctx, late)
	must(t, err, "AppendMessage(late)")
	thr, err = s.GetThread(f.ctx, f.tenant, th.ID)
	must(t, err, "GetThread")
	if m3.Seq != 3 || thr.LastSeq != 3 || !thr.LastMessageAt.Equal(out.CreatedAt) || thr.Preview != "late" {
		t.Errorf("AppendMessage: a message dated earlier still takes the next seq and the preview, but LastMessageAt never moves back: got seq %d, thread %+v", m3.Seq, thr)
	}

	_, _, err = s.AppendMessage(f.ctx, f.inboundMsg(conversations.Thread{ID: "thread-missing"}, "x"))
	wantErr(t, err, conversations.ErrNotFound, "AppendMessage: an unknown thread is ErrNotFound")
	bad := f.inboundMsg(th, "x")
	bad.Status = "lost"
	_, _, err = s.AppendMessage(f.ctx, bad)
	wantErr(t, err, conversations.ErrInvalid, "AppendMessage: an unknown status is ErrInvalid")
	_, err = s.GetMessage(f.ctx, f.tenant, "message-missing")
	wantErr(t, err, conversations.ErrNotFound, "GetMessage: an unknown id is ErrNotFound")

	dupID := f.inboundMsg(th, "same id")
	dupID.ID = in.ID
	dupID.ProviderID = ""
	_, _, err = s.AppendMessage(f.ctx, dupID)
	wantErr(t, err, conversations.ErrConflict, "AppendMessage: a reused message id that is not a provider/client duplicate is ErrConflict")
	thr, err = s.GetThread(f.ctx, f.tenant, th.ID)
	must(t, err, "GetThread")
	if thr.LastSeq != 3 {
		t.Errorf("AppendMessage: a refused message changes nothing: LastSeq %d, want 3", thr.LastSeq)
	}
}

func testIdempotency(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	tech := f.staff(conversations.RoleTechnician)
	th := f.customer()

	in := f.inboundMsg(th, "hello")
	first, created, err := s.AppendMessage(f.ctx, in)
	must(t, err, "AppendMessage")
	if !created {
		t.Fatalf("AppendMessage: a new message must be created")
	}
	again := f.inboundMsg(th, "hello (redelivered)")
	again.ProviderID = in.ProviderID
	dup, created, err := s.AppendMessage(f.ctx, again)
	must(t, err, "AppendMessage(repeat)")
	if created || dup.ID != first.ID || dup.Seq != first.Seq || dup.Body != "hello" {
		t.Errorf("AppendMessage: the same (channel, provider id) returns the existing message with created=false: got %+v created=%v", dup, created)
	}
	byProvider, err := s.MessageByProviderID(f.ctx, f.tenant, conversations.ChannelSMS, in.ProviderID)
	must(t, err, "MessageByProviderID")
	if byProvider.ID != first.ID {
		t.Errorf("MessageByProviderID: must find the message by channel and provider id")
	}
	_, err = s.MessageByProviderID(f.ctx, f.tenant, conversations.ChannelEmail, in.ProviderID)
	wantErr(t, err, conversations.ErrNotFound, "MessageByProviderID: the provider id is per channel")

	out := f.outboundMsg(th, tech.ID, "on my way")
	sent, created, err := s.AppendMessage(f.ctx, out)
	must(t, err, "AppendMessage")
	if !created {
		t.Fatalf("AppendMessage: a new message must be created")
	}
	retry := f.outboundMsg(th, tech.ID, "on my way")
	retry.ClientID = out.ClientID
	dup, created, err = s.AppendMessage(f.ctx, retry)
	must(t, err, "AppendMessage(retry)")
	if created || dup.ID != sent.ID {
		t.Errorf("AppendMessage: the same (author, client id) returns the existing message with created=false: got %+v created=%v", dup, created)
	}
	byClient, err := s.MessageByClientID(f.ctx, f.tenant, tech.ID, out.ClientID)
	must(t, err, "MessageByClientID")
	if byClient.ID != sent.ID {
		t.Errorf("MessageByClientID: must find the message by author and client id")
	}
	// Another author may use the same client id.
	other := f.staff(conversations.RoleTechnician)
	theirs := f.outboundMsg(th, other.ID, "mine")
	theirs.ClientID = out.ClientID
	_, created, err = s.AppendMessage(f.ctx, theirs)
	must(t, err, "AppendMessage(other author)")
	if !created {
		t.Errorf("AppendMessage: client ids are per author: another author's message with the same client id is new")
	}
	thr, err := s.GetThread(f.ctx, f.tenant, th.ID)
	must(t, err, "GetThread")
	if thr.LastSeq != 3 {
		t.Errorf("AppendMessage: duplicates must not move LastSeq: got %d, want 3", thr.LastSeq)
	}

	// Concurrent repeats of one send: one message.
	const n = 8
	race := f.outboundMsg(th, tech.ID, "concurrent")
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		made    int
		gotIDs  = map[conversations.MessageID]bool{}
		failure []error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := race
			m.ID = conversations.NewID[conversations.MessageID]()
			m.Body = fmt.Sprintf("attempt %d", i)
			got, created, err := s.AppendMessage(f.ctx, m)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failure = append(failure, err)
				return
			}
			gotIDs[got.ID] = true
			if created {
				made++
			}
		}()
	}
	wg.Wait()
	if len(failure) > 0 {
		t.Fatalf("AppendMessage: concurrent repeats of one client id must all succeed: %v", failure)
	}
	if made != 1 || len(gotIDs) != 1 {
		t.Errorf("AppendMessage: concurrent repeats of one client id make one message: %d created, %d distinct ids", made, len(gotIDs))
	}
	thr, err = s.GetThread(f.ctx, f.tenant, th.ID)
	must(t, err, "GetThread")
	if thr.LastSeq != 4 {
		t.Errorf("AppendMessage: a duplicate that lost a race leaves no gap: LastSeq %d, want 4", thr.LastSeq)
	}
	h, err := s.History(f.ctx, f.tenant, th.ID, conversations.HistoryQuery{})
	must(t, err, "History")
	for i, m := range h.Messages {
		if want := int64(len(h.Messages) - i); m.Seq != want {
			t.Fatalf("AppendMessage: seqs stay dense after duplicate races: history seqs %v", seqs(h.Messages))
		}
	}
}

func testConcurrentAppend(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	disp := f.staff(conversations.RoleDispatcher)
	th := f.customer()
	const workers, each = 6, 5
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m := f.inboundMsg(th, fmt.Sprintf("w%d-%d", w, i))
				m.CreatedAt = time.Date(2024, 6, 1, 10, 0, w*each+i, 0, time.UTC)
				if _, _, err := s.AppendMessage(f.ctx, m); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("AppendMessage: concurrent appends to one thread must all succeed: %v", errs)
	}
	var all []conversations.Message
	before := int64(0)
	for {
		p, err := s.History(f.ctx, f.tenant, th.ID, conversations.HistoryQuery{Limit: 7, Before: before})
		must(t, err, "History")
		all = append(all, p.Messages...)
		if p.NextBefore == 0 {
			break
		}
		before = p.NextBefore
	}
	if len(all) != workers*each {
		t.Fatalf("AppendMessage: every concurrent append is stored: got %d, want %d", len(all), workers*each)
	}
	for i, m := range all {
		if want := int64(workers*each - i); m.Seq != want {
			t.Fatalf("AppendMessage: concurrent appends get dense seqs 1..n: got %v", seqs(all))
		}
	}
	badge := f.badge(conversations.Scope{Tenant: f.tenant, Staff: disp.ID, AllCustomer: true, Participant: true})
	if badge != workers*each {
		t.Errorf("Badge: counters stay exact under concurrent appends: got %d, want %d", badge, workers*each)
	}
}

func testTimestamps(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	th := f.customer()
	zone := time.FixedZone("UTC-7", -7*3600)
	at := time.Date(2024, 6, 1, 3, 4, 5, 123456789, zone)
	m := f.inboundMsg(th, "x")
	m.CreatedAt = at
	_, _, err := s.AppendMessage(f.ctx, m)
	must(t, err, "AppendMessage")
	got, err := s.GetMessage(f.ctx, f.tenant, m.ID)
	must(t, err, "GetMessage")
	want := at.UTC().Truncate(time.Microsecond)
	if !got.CreatedAt.Equal(want) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("timestamps: stored in UTC, truncated to microseconds, returned in UTC: got %v, want %v", got.CreatedAt, want)
	}
	thr, err := s.GetThread(f.ctx, f.tenant, th.ID)
	must(t, err, "GetThread")
	if !thr.LastMessageAt.Equal(want) || thr.LastMessageAt.Location() != time.UTC || thr.CreatedAt.Location() != time.UTC {
		t.Errorf("timestamps: thread times are UTC microseconds: got %v", thr.LastMessageAt)
	}
	if !got.SentAt.IsZero() || !got.DeliveredAt.IsZero() || !got.FailedAt.IsZero() {
		t.Errorf("timestamps: a status time not reached yet reads back as the zero time: got %+v", got)
	}
}

func testHistory(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	th := f.customer()
	for i := range 7 {
		f.inbound(th, fmt.Sprintf("m%d", i+1))
	}
	p1, err := s.History(f.ctx, f.tenant, th.ID, conversations.HistoryQuery{Limit: 3})
	must(t, err, "History")
	if got := seqs(p1.Messages); !equalIDs(got, []int64{7, 6, 5}) || p1.NextBefore != 5 {
		t.Fatalf("History: the newest page first, cut by seq: got %v next %d", got, p1.NextBefore)
	}
	// New messages arrive between pages: the next page is unaffected.
	f.inbound(th, "m8")
	p2, err := s.History(f.ctx, f.tenant, th.ID, conversations.HistoryQuery{Limit: 3, Before: p1.NextBefore})
	must(t, err, "History")
	if got := seqs(p2.Messages); !equalIDs(got, []int64{4, 3, 2}) || p2.NextBefore != 2 {
		t.Errorf("History: pages are stable while new messages arrive: got %v next %d", got, p2.NextBefore)
	}
	p3, err := s.History(f.ctx, f.tenant, th.ID, conversations.HistoryQuery{Limit: 3, Before: p2.NextBefore})
	must(t, err, "History")
	if got := seqs(p3.Messages); !equalIDs(got, []int64{1}) || p3.NextBefore != 0 {
		t.Errorf("History: the oldest page ends with NextBefore 0: got %v next %d", got, p3.NextBefore)
	}
	exact, err := s.History(f.ctx, f.tenant, th.ID, conversations.HistoryQuery{Limit: 2, Before: 3})
	must(t, err, "History")
	if got := seqs(exact.Messages); !equalIDs(got, []int64{2, 1}) || exact.NextBefore != 0 {
		t.Errorf("History: a page that ends at seq 1 has NextBefore 0: got %v next %d", got, exact.NextBefore)
	}
	def, err := s.History(f.ctx, f.tenant, th.ID, conversations.HistoryQuery{})
	must(t, err, "History")
	if len(def.Messages) != 8 || def.NextBefore != 0 {
		t.Errorf("History: Limit 0 means DefaultPageSize: got %d messages", len(def.Messages))
	}
	empty := f.customer()
	e, err := s.History(f.ctx, f.tenant, empty.ID, conversations.HistoryQuery{})
	must(t, err, "History(empty thread)")
	if len(e.Messages) != 0 || e.NextBefore != 0 {
		t.Errorf("History: an empty thread has an empty last page")
	}
	_, err = s.History(f.ctx, f.tenant, "thread-missing", conversations.HistoryQuery{})
	wantErr(t, err, conversations.ErrNotFound, "History: an unknown thread is ErrNotFound")
	_, err = s.History(f.ctx, f.tenant, th.ID, conversations.HistoryQuery{Limit: conversations.MaxPageSize + 1})
	wantErr(t, err, conversations.ErrInvalid, "History: a Limit above MaxPageSize is ErrInvalid")
}

// outboundStatuses are the statuses a delivery report can carry. Received
// is left out: it marks inbound messages, which get no delivery reports, and
// conversations.Merge keeps an earlier failure's error code when received
// outranks it but not the other way round, so no store could pass a pair
// with it.
var outboundStatuses = []conversations.Status{
	conversations.StatusQueued, conversations.StatusSending, conversations.StatusSent, conversations.StatusDelivered,
	conversations.StatusUndelivered, conversations.StatusFailed,
}

func testStatusPrecedence(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	tech := f.staff(conversations.RoleTechnician)
	th := f.customer()
	base := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	update := func(m conversations.Message, st conversations.Status, i int) conversations.StatusUpdate {
		return conversations.StatusUpdate{
			Tenant: f.tenant, Message: m.ID, Status: st, At: base.Add(time.Duration(i) * time.Minute),
			ErrorCode: "E" + string(st), ErrorReason: "reason " + string(st),
		}
	}
	for i, a := range outboundStatuses {
		for j, b := range outboundStatuses {
			if j <= i {
				continue
			}
			var final [2]conversations.Message
			for k, order := range [2][2]int{{i, j}, {j, i}} {
				m, _, err := s.AppendMessage(f.ctx, f.outboundMsg(th, tech.ID, "status"))
				must(t, err, "AppendMessage")
				for _, idx := range order {
					_, _, err := s.ApplyStatus(f.ctx, update(m, outboundStatuses[idx], idx))
					must(t, err, "ApplyStatus")
				}
				final[k], err = s.GetMessage(f.ctx, f.tenant, m.ID)
				must(t, err, "GetMessage")
			}
			x, y := final[0], final[1]
			if x.Status != y.Status || !x.SentAt.Equal(y.SentAt) || !x.DeliveredAt.Equal(y.DeliveredAt) ||
				!x.FailedAt.Equal(y.FailedAt) || x.ErrorCode != y.ErrorCode || x.ErrorReason != y.ErrorReason {
				t.Errorf("ApplyStatus: %s and %s in either order must end in the same stored state:\n %s then %s: %s sent=%v delivered=%v failed=%v err=%s\n %s then %s: %s sent=%v delivered=%v failed=%v err=%s",
					a, b, a, b, x.Status, x.SentAt, x.DeliveredAt, x.FailedAt, x.ErrorCode,
					b, a, y.Status, y.SentAt, y.DeliveredAt, y.FailedAt, y.ErrorCode)
			}
			want := a
			if b.Rank() > a.Rank() {
				want = b
			}
			if x.Status != want {
				t.Errorf("ApplyStatus: the higher-ranked status wins: %s and %s ended %s, want %s", a, b, x.Status, want)
			}
		}
	}
}

func testApplyStatus(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	tech := f.staff(conversations.RoleTechnician)
	th := f.customer()
	m, _, err := s.AppendMessage(f.ctx, f.outboundMsg(th, tech.ID, "hi"))
	must(t, err, "AppendMessage")
	sentAt := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

	got, changed, err := s.ApplyStatus(f.ctx, conversations.StatusUpdate{Tenant: f.tenant, Message: m.ID,
		Status: conversations.StatusSent, ProviderID: "SM-1-" + string(m.ID), At: sentAt})
	must(t, err, "ApplyStatus")
	if !changed || got.Status != conversations.StatusSent || !got.SentAt.Equal(sentAt) || got.ProviderID != "SM-1-"+string(m.ID) {
		t.Errorf("ApplyStatus: sent sets the status, its time and the provider id: got %+v changed=%v", got, changed)
	}
	// By provider id, a delivery report.
	deliveredAt := sentAt.Add(time.Minute)
	got, changed, err = s.ApplyStatus(f.ctx, conversations.StatusUpdate{Tenant: f.tenant, Channel: conversations.ChannelSMS,
		ProviderID: "SM-1-" + string(m.ID), Status: conversations.StatusDelivered, At: deliveredAt})
	must(t, err, "ApplyStatus(by provider id)")
	if !changed || got.Status != conversations.StatusDelivered || !got.DeliveredAt.Equal(deliveredAt) || !got.SentAt.Equal(sentAt) {
		t.Errorf("ApplyStatus: a report by channel and provider id finds the message: got %+v", got)
	}
	// A late sent: nothing moves back, nothing changes.
	got, changed, err = s.ApplyStatus(f.ctx, conversations.StatusUpdate{Tenant: f.tenant, Message: m.ID,
		Status: conversations.StatusSent, At: sentAt.Add(time.Hour)})
	must(t, err, "ApplyStatus(late sent)")
	if changed || got.Status != conversations.StatusDelivered || !got.SentAt.Equal(sentAt) {
		t.Errorf("ApplyStatus: a late sent never overwrites delivered nor a status's first time: got %+v changed=%v", got, changed)
	}
	stored, err := s.GetMessage(f.ctx, f.tenant, m.ID)
	must(t, err, "GetMessage")
	if stored.Status != conversations.StatusDelivered || !stored.DeliveredAt.Equal(deliveredAt) {
		t.Errorf("ApplyStatus: the stored message must be the merged one: got %+v", stored)
	}
	_, _, err = s.ApplyStatus(f.ctx, conversations.StatusUpdate{Tenant: f.tenant, Message: "message-missing", Status: conversations.StatusSent})
	wantErr(t, err, conversations.ErrNotFound, "ApplyStatus: an unknown message is ErrNotFound")
	_, _, err = s.ApplyStatus(f.ctx, conversations.StatusUpdate{Tenant: f.tenant, Channel: conversations.ChannelSMS, ProviderID: "SM-none", Status: conversations.StatusSent})
	wantErr(t, err, conversations.ErrNotFound, "ApplyStatus: an unknown provider id is ErrNotFound")
	_, _, err = s.ApplyStatus(f.ctx, conversations.StatusUpdate{Tenant: f.tenant, Message: m.ID, Status: "lost"})
	wantErr(t, err, conversations.ErrInvalid, "ApplyStatus: an unknown status is ErrInvalid")

	// Concurrent reports for one message: the result is the merge of all.
	m2, _, err := s.AppendMessage(f.ctx, f.outboundMsg(th, tech.ID, "race"))
	must(t, err, "AppendMessage")
	reports := []conversations.StatusUpdate{
		{Status: conversations.StatusSending, At: sentAt},
		{Status: conversations.StatusSent, At: sentAt.Add(time.Second)},
		{Status: conversations.StatusDelivered, At: sentAt.Add(2 * time.Second)},
		{Status: conversations.StatusSent, At: sentAt.Add(-time.Second)},
	}
	var wg sync.WaitGroup
	errs := make([]error, len(reports))
	for i, u := range reports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u.Tenant, u.Message = f.tenant, m2.ID
			_, _, errs[i] = s.ApplyStatus(f.ctx, u)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		must(t, err, "ApplyStatus(concurrent)")
	}
	stored, err = s.GetMessage(f.ctx, f.tenant, m2.ID)
	must(t, err, "GetMessage")
	if stored.Status != conversations.StatusDelivered || !stored.SentAt.Equal(sentAt.Add(-time.Second)) ||
		!stored.DeliveredAt.Equal(sentAt.Add(2*time.Second)) {
		t.Errorf("ApplyStatus: concurrent reports are applied atomically, none lost: got %+v", stored)
	}
}

func seqs(ms []conversations.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}
