package conversations

import (
	"context"
	"time"
)

// DeliveryKind says what a queued delivery does with its message.
type DeliveryKind string

const (
	// DeliverMessage sends the message through its channel.
	DeliverMessage DeliveryKind = ""
	// DeliverTimeline records the message on its contact's timeline in the
	// host's CRM (a Timeline that is not kept in the Store's database).
	DeliverTimeline DeliveryKind = "timeline"
	// DeliverNotify tells every staff member whose badge the message
	// changed (Service.Deliver fans it out to the Notifier): the job the
	// inbound webhook commits with the message when the Store is not a
	// FanOutStore (fanout.go), so that it can answer before anyone is told
	// and nobody goes untold after a crash.
	DeliverNotify DeliveryKind = "notify"
)

// Delivery is one queued piece of work on a stored message.
type Delivery struct {
	Kind      DeliveryKind
	Tenant    TenantID
	Message   MessageID
	Channel   string
	NotBefore time.Time // zero: as soon as possible
	// Automated says no person typed the message (a workflow's): a queue
	// runs person-typed deliveries first.
	Automated bool
}

// Pacer spaces out the sends of one sender (a business number): a long
// code takes about one SMS a second, and a burst of automated messages
// must not starve the replies technicians type. Deliver asks it right
// before the provider call. Take returns how long the send must wait for
// its slot: zero to send now. A person-typed message reserves the next
// slot (waiting at most for the ones reserved before it); an automated one
// only takes a slot that is open now, so that any person-typed message
// goes first, and its positive wait says when to ask again (no slot is
// held for it). A sender with no pace set is not paced. store/outbox's
// Outbox is one; its rates live in the database.
type Pacer interface {
	Take(ctx context.Context, tenant TenantID, sender string, automated bool) (wait time.Duration, err error)
}

// Outbox durably queues outbound messages. The Service stores a message as
// queued and calls Enqueue inside the same transaction, so the message and
// its delivery job commit together or not at all: an accepted message is
// never lost, even if the process dies right after.
//
// Enqueue must use tx (the transaction-bound Store that stored the message)
// for its write. The queue's worker later calls Deliver (Worker) for the
// message, retrying with backoff as Deliver's error says.
type Outbox interface {
	Enqueue(ctx context.Context, tx Store, d Delivery) error
}

// QueueStore is a Store that carries its own Outbox: Enqueue is handed only
// Stores that this Store's Tx passed to fn, so the queue always writes in
// the database, and the transaction, that stored the message. The parts
// that queue work (App, Hooks) take a QueueStore, so a Store that cannot
// enqueue does not compile into them; store/outbox's Outbox.Store is the
// store package's.
type QueueStore interface {
	Store
	Outbox
}

// A Store that cannot queue does not compile where a QueueStore is needed:
//
//	_, _ = NewHooks(HooksConfig{Store: db}) // *store.DB: missing method Enqueue
//
// The one remaining run-time check is inside the pair a QueueStore is: its
// Enqueue is handed a Store its own Tx made.

// Finder is an optional Channel ability used before resending a message
// whose earlier attempt may have reached the provider (a lost answer, or a
// crash between the provider accepting it and our commit): it looks for the
// provider's copy of out, sent no earlier than since. It returns ErrNotFound
// when the provider has none, and only then is the message sent again.
//
// A channel that can accept a message without answering (any remote API)
// should implement it: without it, such a message is sent again, because an
// accepted message must never be lost.
type Finder interface {
	Find(ctx context.Context, out Outbound, since time.Time) (Receipt, error)
}

// RetryError is what Deliver returns when a later attempt can succeed: the
// queue should try again no earlier than After (zero: its own backoff).
type RetryError struct {
	After time.Duration
	Err   error
}

func (e *RetryError) Error() string { return "conversations: deliver: retry: " + e.Err.Error() }
func (e *RetryError) Unwrap() error { return e.Err }
