package conversations

import "context"

// ThreadAccess answers, at the moment something is about to leave the
// server, which threads a staff member may still see. Notifiers that hold
// events for later (the in-app stream's replay and its waiting live events,
// a push waiting for a retry) ask it then, so that an unassign, a removed
// participant or an unlinked job is obeyed by what was queued before it.
// The role is the staff directory's, as when the Service chose the
// recipients. Safe for concurrent use.
type ThreadAccess struct {
	store  FastStore
	policy Policy
}

// NewThreadAccess returns the ThreadAccess of st under p (the Service's
// Store and Policy). A nil one is ErrInvalid.
func NewThreadAccess(st Store, p Policy) (*ThreadAccess, error) {
	if st == nil {
		return nil, Invalid("store", "required")
	}
	if p == nil {
		return nil, Invalid("policy", "required (policy.Default() is the product's rule)")
	}
	return &ThreadAccess{store: WithFallbacks(st), policy: p}, nil
}

// VisibleThreads returns those of threads that staff of tenant may see now,
// sorted and without repeats, in one Store call (when the Store is a
// VisibleThreadsFilter) after the staff member's
// look-up. A staff member the directory does not have sees none.
func (a *ThreadAccess) VisibleThreads(ctx context.Context, tenant TenantID, staff StaffID, threads []ThreadID) ([]ThreadID, error) {
	if tenant == "" || staff == "" || len(threads) == 0 {
		return nil, nil
	}
	st, err := a.store.GetStaff(ctx, tenant, staff)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return a.store.VisibleThreads(ctx, a.policy.Scope(st.Viewer()), threads)
}

// NamesThread reports whether n shows something of a thread, and so is
// shown only to someone who may see that thread: every event but a badge
// (which carries the new, smaller count and nothing of the thread).
func NamesThread(n Notification) bool {
	return n.Type != EventBadge && n.Thread != ""
}
