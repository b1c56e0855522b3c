package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/policy"
)

// testPreferences checks a conversations.PreferenceStore, when the store is
// one: preferences read back, per person and business; mutes; the one-call
// lookup for a notification's recipients; and that a muted thread stays in
// the inbox with its unread count while the badge leaves it out only for
// whoever asked.
func testPreferences(t *testing.T, s conversations.FastStore) {
	ps, ok := s.(conversations.PreferenceStore)
	if !ok {
		t.Skip("the store does not implement conversations.PreferenceStore")
	}
	f := newFixture(t, s)
	rules := policy.Default()
	disp := f.staff(conversations.RoleDispatcher)
	tech := f.staff(conversations.RoleTechnician)

	got, err := ps.GetPreferences(f.ctx, f.tenant, disp.ID)
	must(t, err, "GetPreferences(never saved)")
	if got.Tenant != f.tenant || got.Staff != disp.ID || got.Push != conversations.PushDefault ||
		got.ExcludeMutedFromBadge || len(got.Muted) != 0 {
		t.Errorf("GetPreferences: someone who saved nothing has the defaults: got %+v", got)
	}
	want := conversations.Preferences{Tenant: f.tenant, Staff: disp.ID, Push: conversations.PushAll,
		Preview: conversations.PreviewHidden, ExcludeMutedFromBadge: true,
		Quiet:     conversations.QuietHours{Start: "22:00", End: "07:00", TimeZone: "Europe/Berlin"},
		UpdatedAt: f.tick()}
	must(t, ps.PutPreferences(f.ctx, want), "PutPreferences")
	want.Push = conversations.PushUrgent
	must(t, ps.PutPreferences(f.ctx, want), "PutPreferences(replace)")
	got, err = ps.GetPreferences(f.ctx, f.tenant, disp.ID)
	must(t, err, "GetPreferences")
	if got.Push != want.Push || got.Preview != want.Preview || got.Quiet != want.Quiet ||
		!got.ExcludeMutedFromBadge || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("GetPreferences: reads back what was saved last: got %+v want %+v", got, want)
	}
	other := f.other()
	if o, err := ps.GetPreferences(f.ctx, other.tenant, disp.ID); err != nil || o.Push != "" || o.ExcludeMutedFromBadge {
		t.Errorf("GetPreferences: preferences are per business: got %+v, %v", o, err)
	}

	loud, muted := f.customer(), f.customer()
	f.inbound(loud, "one")
	f.inbound(muted, "two")
	f.inbound(muted, "three")
	must(t, ps.SetMuted(f.ctx, f.tenant, disp.ID, muted.ID, true, f.tick()), "SetMuted")
	must(t, ps.SetMuted(f.ctx, f.tenant, disp.ID, muted.ID, true, f.tick()), "SetMuted(again)")
	if err := ps.SetMuted(f.ctx, f.tenant, disp.ID, "no-such-thread", true, f.tick()); !errors.Is(err, conversations.ErrNotFound) {
		t.Errorf("SetMuted: a thread the business does not have is ErrNotFound: got %v", err)
	}
	if err := ps.SetMuted(f.ctx, other.tenant, disp.ID, muted.ID, true, f.tick()); !errors.Is(err, conversations.ErrNotFound) {
		t.Errorf("SetMuted: another business's thread is ErrNotFound: got %v", err)
	}
	got, err = ps.GetPreferences(f.ctx, f.tenant, disp.ID)
	must(t, err, "GetPreferences(muted)")
	if !slices.Equal(got.Muted, []conversations.ThreadID{muted.ID}) {
		t.Errorf("GetPreferences: lists the muted threads once: got %v", got.Muted)
	}

	ask := func(thread conversations.ThreadID, staff ...conversations.StaffID) []conversations.PreferenceAsk {
		var out []conversations.PreferenceAsk
		for _, id := range staff {
			out = append(out, conversations.PreferenceAsk{Staff: id, Thread: thread})
		}
		return out
	}
	rps, err := ps.RecipientPreferences(f.ctx, f.tenant, ask(muted.ID, tech.ID, disp.ID, "nobody"))
	must(t, err, "RecipientPreferences")
	if len(rps) != 3 || rps[0].ThreadMuted || rps[0].Preferences.Staff != tech.ID || rps[0].Preferences.Push != "" ||
		!rps[1].ThreadMuted || rps[1].Preferences.Push != conversations.PushUrgent || rps[1].Preferences.Quiet != want.Quiet ||
		rps[2].ThreadMuted || rps[2].Preferences.Staff != "nobody" {
		t.Errorf("RecipientPreferences: each recipient's preferences and mute of the thread, in order: got %+v", rps)
	}
	rps, err = ps.RecipientPreferences(f.ctx, f.tenant, ask(loud.ID, disp.ID))
	must(t, err, "RecipientPreferences(loud)")
	if len(rps) != 1 || rps[0].ThreadMuted {
		t.Errorf("RecipientPreferences: a mute is of one thread only: got %+v", rps)
	}
	// Asks about several threads at once (a fan-out's batch): each ask
	// gets its own thread's mute, and an ask without a thread none.
	mixed := append(ask(loud.ID, disp.ID, tech.ID), append(ask(muted.ID, disp.ID, tech.ID), ask("", disp.ID)...)...)
	rps, err = ps.RecipientPreferences(f.ctx, f.tenant, mixed)
	must(t, err, "RecipientPreferences(mixed)")
	if len(rps) != 5 || rps[0].ThreadMuted || rps[1].ThreadMuted || !rps[2].ThreadMuted || rps[3].ThreadMuted || rps[4].ThreadMuted ||
		rps[0].Preferences.Push != conversations.PushUrgent || rps[2].Preferences.Push != conversations.PushUrgent ||
		rps[4].Preferences.Push != conversations.PushUrgent || rps[1].Preferences.Staff != tech.ID {
		t.Errorf("RecipientPreferences: each ask of a batch over two threads gets its person's preferences and its own thread's mute: got %+v", rps)
	}

	sc := rules.Scope(disp.Viewer())
	rows := f.inboxAll(sc, conversations.FilterAll, 0)
	if len(rows) != 2 || rows[0].ID != muted.ID || rows[0].Unread != 2 {
		t.Errorf("Inbox: a muted thread stays in the inbox with its unread count: got %v", summary(rows))
	}
	if got := f.badge(sc); got != 1 {
		t.Errorf("Badge: leaves muted threads out for someone who asked: got %d, want 1", got)
	}
	must(t, ps.SetMuted(f.ctx, f.tenant, tech.ID, muted.ID, true, f.tick()), "SetMuted(tech)")
	if got := f.badge(rules.Scope(tech.Viewer())); got != 0 {
		t.Errorf("Badge: a mute of a thread the scope does not allow subtracts nothing: got %d", got)
	}
	admin := f.staff(conversations.RoleAdmin)
	must(t, ps.SetMuted(f.ctx, f.tenant, admin.ID, muted.ID, true, f.tick()), "SetMuted(admin)")
	if got := f.badge(rules.Scope(admin.Viewer())); got != 3 {
		t.Errorf("Badge: a muted thread still counts unless its staff member excludes muted threads: got %d, want 3", got)
	}
	want.ExcludeMutedFromBadge = false
	must(t, ps.PutPreferences(f.ctx, want), "PutPreferences(include muted)")
	if got := f.badge(sc); got != 3 {
		t.Errorf("Badge: counts muted threads again once the option is off: got %d, want 3", got)
	}
	want.ExcludeMutedFromBadge = true
	must(t, ps.PutPreferences(f.ctx, want), "PutPreferences(exclude muted)")
	must(t, ps.SetMuted(f.ctx, f.tenant, disp.ID, muted.ID, false, f.tick()), "SetMuted(unmute)")
	must(t, ps.SetMuted(f.ctx, f.tenant, disp.ID, muted.ID, false, f.tick()), "SetMuted(unmute again)")
	if err := ps.SetMuted(f.ctx, f.tenant, disp.ID, "no-such-thread", false, time.Time{}); !errors.Is(err, conversations.ErrNotFound) {
		t.Errorf("SetMuted(unmute): a thread the business does not have is ErrNotFound: got %v", err)
	}
	if got := f.badge(sc); got != 3 {
		t.Errorf("Badge: an unmuted thread counts again: got %d, want 3", got)
	}
	got, err = ps.GetPreferences(f.ctx, f.tenant, disp.ID)
	if err != nil || len(got.Muted) != 0 {
		t.Errorf("GetPreferences: an unmuted thread leaves Muted: got %v, %v", got.Muted, err)
	}
}
