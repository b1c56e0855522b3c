package conversations

import (
	"context"
	"slices"
)

// applyPreferences is where every notification meets its recipient's
// preferences, in send, just before the Notifier: it loads the preferences
// and mutes of all of ns's recipients (one store call per thread, and a
// send is about one thread) and
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
	ps, _ := s.store.(PreferenceStore)
	now := s.now()
	for thread, idx := range byThread(ns) {
		rps := make([]RecipientPreferences, len(idx))
		if ps != nil {
			ids := make([]StaffID, len(idx))
			for j, i := range idx {
				ids[j] = ns[i].Recipient
			}
			got, err := ps.RecipientPreferences(ctx, ns[idx[0]].Tenant, thread, ids)
			if err != nil || len(got) != len(ids) {
				s.log.ErrorContext(ctx, "conversations: notify: preferences", "tenant", ns[idx[0]].Tenant, "err", err)
			} else {
				rps = got
			}
		}
		for j, i := range idx {
			n, rp := &ns[i], rps[j]
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
	}
	return ns
}

// byThread groups the indexes of ns by thread, in order.
func byThread(ns []Notification) map[ThreadID][]int {
	out := make(map[ThreadID][]int, 1)
	for i, n := range ns {
		out[n.Thread] = append(out[n.Thread], i)
	}
	return out
}

// roleOf is id's role among staff ("" when absent).
func roleOf(staff []Staff, id StaffID) Role {
	if i := slices.IndexFunc(staff, func(st Staff) bool { return st.ID == id }); i >= 0 {
		return staff[i].Role
	}
	return ""
}
