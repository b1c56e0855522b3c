package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// testFanOuts checks a conversations.FanOutStore, when the store is one:
// AppendInboundOwed marks a new message owed, in the same step, and a
// repeat or a refused message marks nothing; OwedFanOuts returns the marks
// before a time, oldest first, of every business, up to a limit; FanOutDone
// clears only the business's marks it names.
func testFanOuts(t *testing.T, s conversations.FastStore) {
	fs, ok := s.(conversations.FanOutStore)
	if !ok {
		t.Skip("the store does not implement conversations.FanOutStore")
	}
	f := newFixture(t, s)
	g := f.other()
	number := f.number()
	from := "+1555" + string(conversations.NewID[conversations.ThreadID]())[:8] + "2"
	owedOf := func(tenant conversations.TenantID) []conversations.MessageID {
		t.Helper()
		all, err := fs.OwedFanOuts(f.ctx, f.clock.Add(time.Hour), 1000)
		must(t, err, "OwedFanOuts")
		var out []conversations.MessageID
		for _, o := range all {
			if o.Tenant == tenant {
				out = append(out, o.Message)
			}
		}
		return out
	}

	th, m := f.arriving("+15559999998", from, "to a number nobody has")
	_, _, _, err := fs.AppendInboundOwed(f.ctx, th, m)
	wantErr(t, err, conversations.ErrNotFound, "AppendInboundOwed: a number not provisioned is ErrNotFound")
	if got := owedOf(f.tenant); len(got) != 0 {
		t.Fatalf("AppendInboundOwed: a refused message marks nothing: %v", got)
	}

	// First contact (the general path) and a later message (the fast one).
	th, m = f.arriving(number, from, "first contact")
	_, first, created, err := fs.AppendInboundOwed(f.ctx, th, m)
	must(t, err, "AppendInboundOwed(first contact)")
	th, m = f.arriving(number, from, "and again")
	_, second, created2, err := fs.AppendInboundOwed(f.ctx, th, m)
	must(t, err, "AppendInboundOwed")
	if !created || !created2 {
		t.Fatalf("AppendInboundOwed: both messages are new")
	}
	_, _, again, err := fs.AppendInboundOwed(f.ctx, th, m)
	must(t, err, "AppendInboundOwed(repeat)")
	if again {
		t.Fatalf("AppendInboundOwed: a repeat of the provider id creates nothing")
	}
	th, m = f.arriving(number, from, "not owed")
	_, plain, _, err := s.AppendInbound(f.ctx, th, m)
	must(t, err, "AppendInbound")
	if got, want := owedOf(f.tenant), []conversations.MessageID{first.ID, second.ID}; !slices.Equal(got, want) {
		t.Fatalf("OwedFanOuts: the two new messages, oldest first, once each, and not the one filed by AppendInbound (%s): got %v want %v",
			plain.ID, got, want)
	}

	// Marks by hand, in another business; before, limit, order.
	old := f.clock.Add(-time.Hour)
	must(t, fs.OweFanOut(f.ctx, g.tenant, "g-2", old.Add(2*time.Second)), "OweFanOut")
	must(t, fs.OweFanOut(f.ctx, g.tenant, "g-1", old.Add(time.Second)), "OweFanOut")
	must(t, fs.OweFanOut(f.ctx, g.tenant, "g-1", old.Add(time.Second)), "OweFanOut(again)")
	before, err := fs.OwedFanOuts(f.ctx, old.Add(90*time.Second), 1000)
	must(t, err, "OwedFanOuts(before)")
	var mine []conversations.OwedFanOut
	for _, o := range before {
		if o.Tenant == g.tenant || o.Tenant == f.tenant {
			mine = append(mine, o)
		}
	}
	if len(mine) != 2 || mine[0].Message != "g-1" || mine[1].Message != "g-2" || !mine[0].At.Equal(old.Add(time.Second)) {
		t.Fatalf("OwedFanOuts(before): only the marks before it, oldest first, with their time: %+v", mine)
	}
	if one, err := fs.OwedFanOuts(f.ctx, f.clock.Add(time.Hour), 1); err != nil || len(one) != 1 {
		t.Fatalf("OwedFanOuts(limit 1): %v, %v", one, err)
	}
	if _, err := fs.OwedFanOuts(f.ctx, f.clock, 0); !errors.Is(err, conversations.ErrInvalid) {
		t.Errorf("OwedFanOuts(limit 0) is ErrInvalid: %v", err)
	}

	// Done clears only the named business's marks.
	must(t, fs.FanOutDone(f.ctx, g.tenant, []conversations.MessageID{first.ID, "g-1", "never-marked"}), "FanOutDone")
	if got := owedOf(f.tenant); !slices.Equal(got, []conversations.MessageID{first.ID, second.ID}) {
		t.Errorf("FanOutDone: another business's marks stay: %v", got)
	}
	if got := owedOf(g.tenant); !slices.Equal(got, []conversations.MessageID{"g-2"}) {
		t.Errorf("FanOutDone: the named mark goes: %v", got)
	}
	must(t, fs.FanOutDone(f.ctx, f.tenant, []conversations.MessageID{first.ID, second.ID}), "FanOutDone")
	must(t, fs.FanOutDone(f.ctx, f.tenant, nil), "FanOutDone(none)")
	if got := owedOf(f.tenant); len(got) != 0 {
		t.Errorf("FanOutDone: cleared: %v", got)
	}
	if err := fs.OweFanOut(f.ctx, "", "x", f.clock); !errors.Is(err, conversations.ErrInvalid) {
		t.Errorf("OweFanOut without a business is ErrInvalid: %v", err)
	}
}
