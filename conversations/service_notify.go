package conversations

import (
	"context"
	"slices"
)

// Notifications go out after the change they report is committed, one per
// recipient with that recipient's badge. Recipients are chosen by the policy
// from the thread as it is now, so someone unassigned a moment ago gets
// nothing. A failed notification is logged, never returned: the inbox and
// badge are the truth and the change already happened.

// notifyMessage tells the thread's watchers, except the author, of m.
func (s *Service) notifyMessage(ctx context.Context, m Message) {
	if s.notifier == nil {
		return
	}
	t, err := s.store.GetThread(ctx, m.Tenant, m.Thread)
	if err != nil {
		s.log.ErrorContext(ctx, "conversations: notify: load thread", "thread", m.Thread, "err", err)
		return
	}
	staff, err := s.store.ListStaff(ctx, m.Tenant)
	if err != nil {
		s.log.ErrorContext(ctx, "conversations: notify: list staff", "tenant", m.Tenant, "err", err)
		return
	}
	for _, id := range s.policy.Watchers(t, staff) {
		if m.AuthorType == AuthorStaff && id == m.Author {
			continue
		}
		s.send(ctx, staff, Notification{Tenant: m.Tenant, Recipient: id, Type: EventMessage, Thread: m.Thread, Message: &m, Urgent: m.Urgent}, &t)
	}
}

// notifyStatus tells a staff author that their message's status changed.
func (s *Service) notifyStatus(ctx context.Context, m Message) {
	if s.notifier == nil || m.AuthorType != AuthorStaff || m.Author == "" {
		return
	}
	st, err := s.store.GetStaff(ctx, m.Tenant, m.Author)
	if err != nil {
		s.log.ErrorContext(ctx, "conversations: notify: load author", "staff", m.Author, "err", err)
		return
	}
	s.send(ctx, []Staff{st}, Notification{Tenant: m.Tenant, Recipient: m.Author, Type: EventStatus, Thread: m.Thread, Message: &m}, nil)
}

// notifyRead tells v's other devices that v read a thread.
func (s *Service) notifyRead(ctx context.Context, v Viewer, thread ThreadID, horizon int64) {
	if s.notifier == nil {
		return
	}
	s.send(ctx, []Staff{{Tenant: v.Tenant, ID: v.Staff, Role: v.Role}},
		Notification{Tenant: v.Tenant, Recipient: v.Staff, Type: EventRead, Thread: thread, ReadSeq: horizon}, nil)
}

// send re-checks that the recipient may still see the thread (t, when the
// caller loaded it after the commit; else it is loaded here), fills in their
// badge and hands the notification to the Notifier.
func (s *Service) send(ctx context.Context, staff []Staff, n Notification, t *Thread) {
	i := slices.IndexFunc(staff, func(st Staff) bool { return st.ID == n.Recipient })
	if i < 0 {
		return
	}
	v := staff[i].Viewer()
	switch {
	case n.Type == EventBadge:
	case t != nil:
		if !s.policy.Scope(v).Allows(*t) {
			return
		}
	default:
		if _, err := s.visibleThread(ctx, s.store, v, n.Thread); err != nil {
			return
		}
	}
	badge, err := s.store.Badge(ctx, s.policy.Scope(v))
	if err != nil {
		s.log.ErrorContext(ctx, "conversations: notify: badge", "staff", v.Staff, "err", err)
		return
	}
	n.Badge = badge
	if n.At.IsZero() {
		n.At = s.now()
	}
	if err := s.notifier.Notify(ctx, n); err != nil {
		s.log.WarnContext(ctx, "conversations: notify", "staff", n.Recipient, "type", n.Type, "err", err)
	}
}

// notifyBadges tells each of ids (staff of tenant) their badge after a
// change of what they may see, so every device shows the new count at once.
func (s *Service) notifyBadges(ctx context.Context, tenant TenantID, thread ThreadID, ids []StaffID) {
	if s.notifier == nil || len(ids) == 0 {
		return
	}
	staff, err := s.store.ListStaff(ctx, tenant)
	if err != nil {
		s.log.ErrorContext(ctx, "conversations: notify: list staff", "tenant", tenant, "err", err)
		return
	}
	for _, id := range uniqueStaff(ids) {
		s.send(ctx, staff, Notification{Tenant: tenant, Recipient: id, Type: EventBadge, Thread: thread}, nil)
	}
}

// viewersOf returns the staff of t's business who may see t.
func (s *Service) viewersOf(ctx context.Context, t Thread) ([]StaffID, error) {
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

func uniqueStaff(ids []StaffID) []StaffID {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}
