package conversations_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

var deliveryStatuses = []conversations.Status{
	conversations.StatusQueued, conversations.StatusSending, conversations.StatusSent,
	conversations.StatusDelivered, conversations.StatusUndelivered, conversations.StatusFailed,
}

// update returns the report a provider would send for st: each status has its
// own time and, for failures, its own code.
func update(st conversations.Status, base time.Time) conversations.StatusUpdate {
	u := conversations.StatusUpdate{Status: st, At: base.Add(time.Duration(st.Rank()) * time.Second)}
	if st == conversations.StatusUndelivered || st == conversations.StatusFailed {
		u.ErrorCode, u.ErrorReason = "300"+string(rune('0'+st.Rank())), "carrier said no"
	}
	return u
}

func TestMergeEveryPairCommutes(t *testing.T) {
	base := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	start := conversations.Message{Status: conversations.StatusQueued}
	for _, a := range deliveryStatuses {
		for _, b := range deliveryStatuses {
			ab, _ := conversations.Merge(start, update(a, base))
			ab, _ = conversations.Merge(ab, update(b, base))
			ba, _ := conversations.Merge(start, update(b, base))
			ba, _ = conversations.Merge(ba, update(a, base))
			if !sameState(ab, ba) {
				t.Errorf("status order rule broken: %s then %s = %+v, %s then %s = %+v", a, b, ab, b, a, ba)
			}
			want := a
			if b.Rank() > a.Rank() {
				want = b
			}
			if ab.Status != want {
				t.Errorf("forward-only rule broken: %s and %s ended %s, want %s", a, b, ab.Status, want)
			}
		}
	}
}

// TestMergeRandomOrders applies random multisets of reports (with repeats) in
// random orders: the result never depends on the order, and never moves back.
func TestMergeRandomOrders(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for range 2000 {
		n := 1 + rng.IntN(8)
		ups := make([]conversations.StatusUpdate, n)
		for i := range ups {
			ups[i] = update(deliveryStatuses[rng.IntN(len(deliveryStatuses))], base)
		}
		var first conversations.Message
		for k := range 4 {
			m := conversations.Message{Status: conversations.StatusQueued}
			prev := m.Status.Rank()
			for _, i := range rng.Perm(n) {
				m, _ = conversations.Merge(m, ups[i])
				if m.Status.Rank() < prev {
					t.Fatalf("forward-only rule broken: moved from rank %d to %s", prev, m.Status)
				}
				prev = m.Status.Rank()
			}
			if k == 0 {
				first = m
			} else if !sameState(first, m) {
				t.Fatalf("order independence broken for %v: %+v vs %+v", ups, first, m)
			}
		}
	}
}

func TestMergeKeepsEachTimestampAndReportsChange(t *testing.T) {
	base := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	m := conversations.Message{Status: conversations.StatusQueued}
	m, changed := conversations.Merge(m, update(conversations.StatusDelivered, base))
	if !changed || m.DeliveredAt.IsZero() {
		t.Fatalf("delivered not applied: %+v", m)
	}
	late := update(conversations.StatusSent, base)
	m, changed = conversations.Merge(m, late)
	if !changed || m.Status != conversations.StatusDelivered || !m.SentAt.Equal(late.At) {
		t.Fatalf("a late sent must keep delivered and fill sent_at: %+v", m)
	}
	if _, changed = conversations.Merge(m, late); changed {
		t.Fatal("a repeated report must change nothing")
	}
}

func sameState(a, b conversations.Message) bool {
	return a.Status == b.Status && a.SentAt.Equal(b.SentAt) && a.DeliveredAt.Equal(b.DeliveredAt) &&
		a.FailedAt.Equal(b.FailedAt) && a.ErrorCode == b.ErrorCode && a.ErrorReason == b.ErrorReason
}
