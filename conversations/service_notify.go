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
		s.send(ctx, staff, Notification{Tenant: m.Tenant, Recipient: id, Type: EventMessage, Thread: m.Thread, Message: &m, Urgent: m.Urgent})
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
	s.send(ctx, []Staff{st}, Notification{Tenant: m.Tenant, Recipient: m.Author, Type: EventStatus, Thread: m.Thread, Message: &m})
}

// notifyRead tells v's other devices that v read a thread.
func (s *Service) notifyRead(ctx context.Context, v Viewer, thread ThreadID, horizon int64) {
	if s.notifier == nil {
		return
	}
	s.send(ctx, []Staff{{Tenant: v.Tenant, ID: v.Staff, Role: v.Role}},
		Notification{Tenant: v.Tenant, Recipient: v.Staff, Type: EventRead, Thread: thread, ReadSeq: horizon})
}

// send re-checks that the recipient may still see the thread, fills in their
// badge and hands the notification to the Notifier.
func (s *Service) send(ctx context.Context, staff []Staff, n Notification) {
	i := slices.IndexFunc(staff, func(st Staff) bool { return st.ID == n.Recipient })
	if i < 0 {
		return
	}
	v := staff[i].Viewer()
	if _, err := s.visibleThread(ctx, s.store, v, n.Thread); err != nil {
		return
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
