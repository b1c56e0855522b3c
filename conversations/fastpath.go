package conversations

import (
	"context"
	"slices"
)

// Optional Store abilities, as in database/sql/driver: a Store implements the
// core (Store) plainly, and may also implement any of these to answer a hot
// call in fewer round trips. The Service finds them once, when it is built
// (WithFallbacks), and otherwise answers from the core methods, with the same
// result: store/storetest checks an implementation against the same rules
// whether it is the Store's own or the fallback.

// InboundAppender files a customer's inbound message in one step.
type InboundAppender interface {
	// AppendInbound files m, a customer's inbound message (m.ProviderID
	// set), in the customer thread t names: CustomerThread(t) then
	// AppendMessage with m.Thread set to that thread, as one atomic step, so
	// a store can do it in a single statement. It returns the thread's row
	// after the message (without Participants, Jobs and Assignees), the
	// message, and created. A repeat of (Tenant, Channel, ProviderID)
	// returns the first message and its thread's row with created=false and
	// changes nothing. t.BusinessNumber not provisioned to t.Tenant is
	// ErrNotFound, and changes nothing. With t.Tenant and m.Tenant empty, the
	// tenant is the one t.BusinessNumber is provisioned to (ErrNotFound when
	// none), and the thread and message returned carry it.
	AppendInbound(ctx context.Context, t Thread, m Message) (thread Thread, msg Message, created bool, err error)
}

// VisibleHistoryReader checks and reads a page of history together.
type VisibleHistoryReader interface {
	// VisibleHistory is History for the viewer scope is made for: the page
	// when scope.Allows the thread, archived or not. A thread the scope's
	// tenant does not have is ErrNotFound; one the scope does not allow is
	// ErrForbidden, with messages or without. Scope.Allows is the rule, and
	// the conformance suite checks that the two agree. (The store package
	// checks and reads in one statement, where a GetThread first would
	// take three.)
	VisibleHistory(ctx context.Context, scope Scope, thread ThreadID, q HistoryQuery) (HistoryPage, error)
}

// BadgesCounter answers several badges together.
type BadgesCounter interface {
	// Badges returns Badge for each scope, in the scopes' order, answered
	// together (one round trip for a new message's watchers).
	Badges(ctx context.Context, scopes []Scope) ([]int64, error)
}

// VisibleThreadsFilter answers visibility for a set of threads at once.
type VisibleThreadsFilter interface {
	// VisibleThreads returns those of ids the scope allows now (archived
	// or not), sorted, without repeats; unknown ids and other tenants' are
	// left out. Scope.Allows is the rule, as for VisibleHistory; it answers
	// a set of threads at once (an event stream's page).
	VisibleThreads(ctx context.Context, scope Scope, ids []ThreadID) ([]ThreadID, error)
}

// ThreadsReader reads several threads of one business together.
type ThreadsReader interface {
	// GetThreads returns, in the order of ids and each as GetThread
	// returns it, those of ids that tenant has; the others (unknown, or
	// another tenant's) are left out, and a repeated id comes back once.
	// (The fan-out of a batch of messages reads their threads with it:
	// two statements, where GetThread takes two per thread.)
	GetThreads(ctx context.Context, tenant TenantID, ids []ThreadID) ([]Thread, error)
}

// StatusFromApplier applies a status report to a message just read.
type StatusFromApplier interface {
	// ApplyStatusFrom is ApplyStatus for a caller that has just read the
	// message (have): the same result, with fewer round trips while the
	// message has not changed since.
	ApplyStatusFrom(ctx context.Context, have Message, u StatusUpdate) (Message, bool, error)
}

// FastStore is a Store with every optional ability.
type FastStore interface {
	Store
	InboundAppender
	VisibleHistoryReader
	BadgesCounter
	VisibleThreadsFilter
	ThreadsReader
	StatusFromApplier
	DeliveryReader
}

// WithFallbacks returns st with every optional ability: st's own where it
// implements one (found here, once), else one built from st's core methods.
// Its Tx is st's, so a transaction sees st's own bound Store. The Service
// calls its Store through it; it is exported so that a conformance suite can
// check the fallbacks against the same rules as a store's own fast paths.
func WithFallbacks(st Store) FastStore {
	if f, ok := st.(FastStore); ok {
		return f
	}
	return findFastPaths(st)
}

// fastPaths is WithFallbacks' answer for a Store that lacks some ability.
type fastPaths struct {
	Store
	inbound    InboundAppender
	history    VisibleHistoryReader
	badges     BadgesCounter
	threads    VisibleThreadsFilter
	many       ThreadsReader
	statusFrom StatusFromApplier
	delivery   DeliveryReader
}

func findFastPaths(st Store) fastPaths {
	f := fastPaths{Store: st}
	f.inbound, _ = st.(InboundAppender)
	f.history, _ = st.(VisibleHistoryReader)
	f.badges, _ = st.(BadgesCounter)
	f.threads, _ = st.(VisibleThreadsFilter)
	f.many, _ = st.(ThreadsReader)
	f.statusFrom, _ = st.(StatusFromApplier)
	f.delivery, _ = st.(DeliveryReader)
	return f
}

// AppendInbound is the Store's own, or NumberOwner, CustomerThread and
// AppendMessage in one transaction.
func (f fastPaths) AppendInbound(ctx context.Context, t Thread, m Message) (Thread, Message, bool, error) {
	if f.inbound != nil {
		return f.inbound.AppendInbound(ctx, t, m)
	}
	if err := inboundAppendable(t, m); err != nil {
		return Thread{}, Message{}, false, err
	}
	var (
		row     Thread
		out     Message
		created bool
	)
	err := f.Tx(ctx, func(tx Store) error {
		owner, err := tx.NumberOwner(ctx, t.BusinessNumber)
		switch {
		case err != nil:
			return err
		case t.Tenant != "" && owner.Tenant != t.Tenant:
			return errNumberNotProvisioned
		}
		t.Tenant, m.Tenant = owner.Tenant, owner.Tenant
		got, _, err := tx.CustomerThread(ctx, t)
		if err != nil {
			return err
		}
		m.Thread = got.ID
		if out, created, err = tx.AppendMessage(ctx, m); err != nil {
			return err
		}
		row, err = tx.GetThread(ctx, t.Tenant, got.ID)
		row.Participants, row.Jobs, row.Assignees = nil, nil, nil
		return err
	})
	if err != nil {
		return Thread{}, Message{}, false, err
	}
	return row, out, created, nil
}

// inboundAppendable checks what AppendInbound's contract asks of t and m.
func inboundAppendable(t Thread, m Message) error {
	switch {
	case t.Kind != "" && t.Kind != ThreadCustomer:
		return Invalid("thread.kind", "inbound messages go to customer threads")
	case t.BusinessNumber == "":
		return Invalid("thread.business_number", "empty")
	case t.Contact.Phone == "" && t.Contact.Email == "":
		return Invalid("thread.contact", "neither a phone nor an email")
	case m.Tenant != t.Tenant:
		return Invalid("message.tenant", "not the thread's tenant")
	case m.Direction != DirectionInbound:
		return Invalid("message.direction", "not inbound")
	case m.ProviderID == "":
		return Invalid("message.provider_id", "empty: it is what makes a repeat harmless")
	case m.Channel == "":
		return Invalid("message.channel", "empty")
	case !m.Status.Valid():
		return Invalid("message.status", "unknown status "+string(m.Status))
	}
	return nil
}

var errNumberNotProvisioned = &notFoundError{what: "the business number is not provisioned to this business"}

type notFoundError struct{ what string }

func (e *notFoundError) Error() string { return "conversations: not found: " + e.what }
func (e *notFoundError) Unwrap() error { return ErrNotFound }

// VisibleHistory is the Store's own, or GetThread, Scope.Allows and History.
func (f fastPaths) VisibleHistory(ctx context.Context, scope Scope, thread ThreadID, q HistoryQuery) (HistoryPage, error) {
	if f.history != nil {
		return f.history.VisibleHistory(ctx, scope, thread, q)
	}
	t, err := f.GetThread(ctx, scope.Tenant, thread)
	if err != nil {
		return HistoryPage{}, err
	}
	if !scope.Allows(t) {
		return HistoryPage{}, errForbidden("thread")
	}
	return f.History(ctx, scope.Tenant, thread, q)
}

// Badges is the Store's own, or Badge for each scope.
func (f fastPaths) Badges(ctx context.Context, scopes []Scope) ([]int64, error) {
	if f.badges != nil {
		return f.badges.Badges(ctx, scopes)
	}
	out := make([]int64, len(scopes))
	for i, sc := range scopes {
		n, err := f.Badge(ctx, sc)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// VisibleThreads is the Store's own, or GetThread and Scope.Allows for
// each id.
func (f fastPaths) VisibleThreads(ctx context.Context, scope Scope, ids []ThreadID) ([]ThreadID, error) {
	if f.threads != nil {
		return f.threads.VisibleThreads(ctx, scope, ids)
	}
	if scope.Tenant == "" || scope.Staff == "" {
		return nil, nil
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var out []ThreadID
	for _, id := range ids {
		if id == "" {
			continue
		}
		t, err := f.GetThread(ctx, scope.Tenant, id)
		switch {
		case isNotFound(err):
			continue
		case err != nil:
			return nil, err
		case scope.Allows(t):
			out = append(out, id)
		}
	}
	return out, nil
}

// GetThreads is the Store's own, or GetThread for each id.
func (f fastPaths) GetThreads(ctx context.Context, tenant TenantID, ids []ThreadID) ([]Thread, error) {
	if f.many != nil {
		return f.many.GetThreads(ctx, tenant, ids)
	}
	var out []Thread
	seen := map[ThreadID]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		t, err := f.GetThread(ctx, tenant, id)
		switch {
		case isNotFound(err):
			continue
		case err != nil:
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// ApplyStatusFrom is the Store's own, or ApplyStatus (the same result,
// with a read more).
func (f fastPaths) ApplyStatusFrom(ctx context.Context, have Message, u StatusUpdate) (Message, bool, error) {
	if f.statusFrom != nil {
		return f.statusFrom.ApplyStatusFrom(ctx, have, u)
	}
	return f.ApplyStatus(ctx, u)
}

// appendInbound files an inbound message through st, the Service's Store or
// a transaction of it: a bound Store's abilities are its own, so they are
// found here, at use (a FastStore, as store.DB's bound transactions are,
// costs one type assertion).
//
// owe marks the new message's fan-out owed with it (FanOutStore; a
// transaction of one is one).
func (s *core) appendInbound(ctx context.Context, st Store, t Thread, m Message, owe bool) (Thread, Message, bool, error) {
	if f, ok := st.(FanOutStore); ok && owe {
		return f.AppendInboundOwed(ctx, t, m)
	}
	return WithFallbacks(st).AppendInbound(ctx, t, m)
}
