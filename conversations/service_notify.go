package conversations

import (
	"context"
	"fmt"
	"slices"
)

// Notifications go out after the change they report is committed, one per
// recipient with that recipient's badge. Recipients are chosen by the policy
// from the thread as it is now, so someone unassigned a moment ago gets
// nothing. A failed notification is logged, never returned: the inbox and
// badge are the truth and the change already happened.

// notifyMessage tells everyone whose badge m changed, right away, logging a
// failure (the caller's change is committed either way). Receive leaves this
// to the fan-out loop (fanout.go) or a DeliverNotify job when the Service
// has an Outbox.
func (s *core) notifyMessage(ctx context.Context, m Message) {
	if s.notifier == nil {
		return
	}
	if err := s.fanOut(ctx, m); err != nil {
		s.log.ErrorContext(ctx, "conversations: notify", "message", m.ID, "err", err)
	}
}

// fanOut tells every staff member whose badge m changed: each one who may
// see m's thread, except its author. The thread's watchers (the policy's
// Watchers: participants, assignees, or the fallback roles when nobody
// watches) get the message itself; the others who see the thread (every
// dispatcher and admin, for a customer thread) a badge event, which
// applyPreferences makes a message event for whoever chose PushAll. Each
// notification carries Cause m.ID, so a
// second run tells nobody twice through a Notifier that logs. An error is
// one of loading what the fan-out needs: a DeliverNotify job retries it
// (the fan-out loop's fanOutTenant does the same for a business's batch).
func (s *core) fanOut(ctx context.Context, m Message) error {
	if s.notifier == nil {
		return nil
	}
	t, err := s.store.GetThread(ctx, m.Tenant, m.Thread)
	if err != nil {
		return fmt.Errorf("conversations: notify: load thread: %w", err)
	}
	staff, err := s.store.ListStaff(ctx, m.Tenant)
	if err != nil {
		return fmt.Errorf("conversations: notify: list staff: %w", err)
	}
	return s.send(ctx, staff, s.messageNotifications(m, t, staff), map[ThreadID]Thread{t.ID: t})
}

// messageNotifications are fanOut's notifications of m, a new message in t,
// for staff (t's business's).
func (s *core) messageNotifications(m Message, t Thread, staff []Staff) []Notification {
	watchers := s.policy.Watchers(t, staff)
	var ns []Notification
	for _, st := range staff {
		if m.AuthorType == AuthorStaff && st.ID == m.Author {
			continue
		}
		watcher := slices.Contains(watchers, st.ID)
		if !watcher && !s.policy.Scope(st.Viewer()).Allows(t) {
			continue
		}
		n := Notification{Tenant: m.Tenant, Recipient: st.ID, Type: EventMessage, Thread: m.Thread, Message: &m, Urgent: m.Urgent, Cause: m.ID}
		if !watcher {
			// A badge event that carries its cause: applyPreferences makes
			// it a message event for whoever asked for every customer
			// message (PushAll), and a bare badge event for everyone else.
			n.Type = EventBadge
		}
		ns = append(ns, n)
	}
	return ns
}

// notifyStatus tells a staff author that their message's status changed.
func (s *core) notifyStatus(ctx context.Context, m Message) {
	if s.notifier == nil || m.AuthorType != AuthorStaff || m.Author == "" {
		return
	}
	st, err := s.store.GetStaff(ctx, m.Tenant, m.Author)
	if err != nil {
		s.log.ErrorContext(ctx, "conversations: notify: load author", "staff", m.Author, "err", err)
		return
	}
	_ = s.send(ctx, []Staff{st}, []Notification{{Tenant: m.Tenant, Recipient: m.Author, Type: EventStatus, Thread: m.Thread, Message: &m}}, nil) // logged
}

// notifyRead tells v's other devices that v read a thread.
func (s *core) notifyRead(ctx context.Context, v Viewer, thread ThreadID, horizon int64) {
	if s.notifier == nil {
		return
	}
	_ = s.send(ctx, []Staff{{Tenant: v.Tenant, ID: v.Staff, Role: v.Role}},
		[]Notification{{Tenant: v.Tenant, Recipient: v.Staff, Type: EventRead, Thread: thread, ReadSeq: horizon}}, nil) // logged
}

// send is the one way out to the Notifier: every notification passes here.
// It re-checks that each recipient (one of staff) may still see the thread
// (from threads, when the caller loaded it after the commit; else it is
// loaded here),
// fills in their badges, all in one store call, and hands the notifications
// to the Notifier together (NotifyBatch). A Notifier's error is logged (notifications are best
// effort); the error returned is the badges' (nothing was sent).
func (s *core) send(ctx context.Context, staff []Staff, ns []Notification, threads map[ThreadID]Thread) error {
	kept := ns[:0:0]
	scopes := map[StaffID]Scope{}
	for _, n := range ns {
		i := slices.IndexFunc(staff, func(st Staff) bool { return st.ID == n.Recipient })
		if i < 0 {
			continue
		}
		v := staff[i].Viewer()
		switch {
		case n.Message == nil && (n.Type == EventBadge || n.Type == EventPreferences):
		case hasThread(threads, n.Thread):
			if !s.policy.Scope(v).Allows(threads[n.Thread]) {
				continue
			}
		default:
			if _, err := s.visibleThread(ctx, s.store, v, n.Thread); err != nil {
				continue
			}
		}
		kept = append(kept, n)
		scopes[n.Recipient] = s.policy.Scope(v)
	}
	if len(kept) == 0 {
		return nil
	}
	kept = coalesceBadges(s.applyPreferences(ctx, staff, kept))
	// One badge per recipient, however many of their notifications (a
	// batch of messages) carry it.
	at := map[StaffID]int{}
	var unique []Scope
	for _, n := range kept {
		if _, ok := at[n.Recipient]; !ok {
			at[n.Recipient] = len(unique)
			unique = append(unique, scopes[n.Recipient])
		}
	}
	badges, err := s.fast.Badges(ctx, unique)
	if err != nil {
		s.log.ErrorContext(ctx, "conversations: notify: badges", "tenant", kept[0].Tenant, "err", err)
		return fmt.Errorf("conversations: notify: badges: %w", err)
	}
	now := s.now()
	for i := range kept {
		kept[i].Badge = badges[at[kept[i].Recipient]]
		if kept[i].At.IsZero() {
			kept[i].At = now
		}
	}
	// All of them in one call: a Notifier that logs writes them together.
	if err := s.tel.notify(ctx, s.notifier, kept); err != nil {
		s.log.WarnContext(ctx, "conversations: notify", "tenant", kept[0].Tenant, "type", kept[0].Type, "notifications", len(kept), "err", err)
	}
	return nil
}

// coalesceBadges keeps, of each recipient's bare badge events (no thread,
// no message: what a viewer who is not told of a message itself gets, such
// as a dispatcher for each new customer message), only the last, marked
// urgent when any was. They would all state the same count (send computes
// one badge per recipient), so a batch of messages costs each dispatcher of
// the business one event and one log row, not one per message. The event
// kept carries the cause of the last message: a repeated fan-out of a batch
// cut differently can state a count again, but never tells of a message
// twice.
func coalesceBadges(ns []Notification) []Notification {
	bare := func(n Notification) bool { return n.Type == EventBadge && n.Thread == "" && n.Message == nil }
	last := map[StaffID]int{}
	urgentFor := map[StaffID]bool{}
	for i, n := range ns {
		if bare(n) {
			last[n.Recipient] = i
			urgentFor[n.Recipient] = urgentFor[n.Recipient] || n.Urgent
		}
	}
	out := ns[:0]
	for i, n := range ns {
		if bare(n) {
			if last[n.Recipient] != i {
				continue
			}
			n.Urgent = urgentFor[n.Recipient]
		}
		out = append(out, n)
	}
	return out
}

// notifyBadges tells each of ids (staff of tenant) their badge after a
// change of what they may see, so every device shows the new count at once.
func (s *core) notifyBadges(ctx context.Context, tenant TenantID, thread ThreadID, ids []StaffID) {
	if s.notifier == nil || len(ids) == 0 {
		return
	}
	staff, err := s.store.ListStaff(ctx, tenant)
	if err != nil {
		s.log.ErrorContext(ctx, "conversations: notify: list staff", "tenant", tenant, "err", err)
		return
	}
	var ns []Notification
	for _, id := range uniqueStaff(ids) {
		ns = append(ns, Notification{Tenant: tenant, Recipient: id, Type: EventBadge, Thread: thread})
	}
	_ = s.send(ctx, staff, ns, nil) // logged
}

// viewersOf returns the staff of t's business who may see t.
func (s *core) viewersOf(ctx context.Context, t Thread) ([]StaffID, error) {
	staff, err := s.store.ListStaff(ctx, t.Tenant)
	if err != nil {
		return nil, err
	}
	var out []StaffID
	for _, st := range staff {
		if s.policy.Scope(st.Viewer()).Allows(t) {
			out = append(out, st.ID)
		}
	}
	return out, nil
}

func hasThread(threads map[ThreadID]Thread, id ThreadID) bool {
	_, ok := threads[id]
	return ok
}

func uniqueStaff(ids []StaffID) []StaffID {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}
