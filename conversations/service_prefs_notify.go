package conversations

import (
	"context"
	"slices"
)

// applyPreferences is where every notification meets its recipient's
// preferences, in send, just before the Notifier: it loads the preferences
// of all of ns's recipients and their mutes of ns's threads (one store
// call, however many threads a batch of messages is about) and
//
//   - turns a badge event that a message caused (EventBadge with Message
//     set: a dispatcher told cheaply of a customer message in a thread they
//     do not watch) into a message event for a dispatcher or admin whose
//     push mode is PushAll, and into a plain badge event for everyone else;
//   - marks Silent what must not show or sound on a phone (a muted thread,
//     quiet hours, a message the push mode leaves out);
//   - sets Preview from the recipient's preference.
//
// The stream carries every event as before; only pushes change. Without a
// PreferenceStore everyone is on the defaults. A failed load is logged and
// the notifications go out on the defaults: a missed mute is a lesser harm
// than a missed message.
func (s *core) applyPreferences(ctx context.Context, staff []Staff, ns []Notification) []Notification {
	rps := make([]RecipientPreferences, len(ns))
	if ps, ok := s.store.(PreferenceStore); ok && len(ns) > 0 {
		asks := make([]PreferenceAsk, len(ns))
		for i, n := range ns {
			asks[i] = PreferenceAsk{Staff: n.Recipient, Thread: n.Thread}
		}
		got, err := ps.RecipientPreferences(ctx, ns[0].Tenant, asks)
		if err != nil || len(got) != len(asks) {
			s.log.ErrorContext(ctx, "conversations: notify: preferences", "tenant", ns[0].Tenant, "err", err)
		} else {
			rps = got
		}
	}
	now := s.now()
	for i := range ns {
		n, rp := &ns[i], rps[i]
		if n.Type == EventBadge && n.Message != nil {
			if rp.Preferences.Push == PushAll && PushAll.AllowedFor(roleOf(staff, n.Recipient)) {
				n.Type = EventMessage
			} else {
				// A bare badge event names no thread: the stream
				// sends it without a visibility check.
				n.Message, n.Thread = nil, ""
			}
		}
		n.Silent = !pushes(*n, rp, now)
		n.Preview = rp.Preferences.Preview
	}
	return ns
}

// roleOf is id's role among staff ("" when absent).
func roleOf(staff []Staff, id StaffID) Role {
	if i := slices.IndexFunc(staff, func(st Staff) bool { return st.ID == id }); i >= 0 {
		return staff[i].Role
	}
	return ""
}
