package notify

import (
	"context"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Visibility tells a Notifier which threads a recipient may still see at the
// moment it delivers, since access can be revoked (an unassign, a removed
// participant, an unlinked job) between the Service choosing the recipient
// and the event leaving the server: a stream replaying the day's events, a
// live event waiting for a slow connection, a push waiting for a retry.
// *conversations.ThreadAccess implements it.
//
// VisibleThreads returns those of threads the staff member of tenant may
// see now; order and repeats do not matter. It honours ctx, is safe for
// concurrent use, and is asked once for a batch of events, not per event.
type Visibility interface {
	VisibleThreads(ctx context.Context, tenant conversations.TenantID, staff conversations.StaffID, threads []conversations.ThreadID) ([]conversations.ThreadID, error)
}

var _ Visibility = (*conversations.ThreadAccess)(nil)

// Visible returns, for each of ns (all for one recipient), whether it may be
// shown now: those that name no thread always (conversations.NamesThread),
// the others when v says the recipient may still see their thread. v is
// asked once, for the distinct threads, and not at all when none is named;
// a nil v shows everything.
func Visible(ctx context.Context, v Visibility, ns []conversations.Notification) ([]bool, error) {
	show := make([]bool, len(ns))
	var threads []conversations.ThreadID
	for i, n := range ns {
		show[i] = !conversations.NamesThread(n)
		if !show[i] {
			threads = append(threads, n.Thread)
		}
	}
	if len(threads) == 0 || v == nil {
		for i := range show {
			show[i] = true
		}
		return show, nil
	}
	ok, err := v.VisibleThreads(ctx, ns[0].Tenant, ns[0].Recipient, threads)
	if err != nil {
		return nil, err
	}
	set := make(map[conversations.ThreadID]bool, len(ok))
	for _, id := range ok {
		set[id] = true
	}
	for i, n := range ns {
		show[i] = show[i] || set[n.Thread]
	}
	return show, nil
}
