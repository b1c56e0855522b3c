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
)

// Delivery is one queued piece of work on a stored message.
type Delivery struct {
	Kind      DeliveryKind
	Tenant    TenantID
	Message   MessageID
	Channel   string
	NotBefore time.Time // zero: as soon as possible
}

// Outbox durably queues outbound messages. The Service stores a message as
// queued and calls Enqueue inside the same transaction, so the message and
// its delivery job commit together or not at all: an accepted message is
// never lost, even if the process dies right after.
//
// Enqueue must use tx (the transaction-bound Store that stored the message)
// for its write. The queue's worker later calls Service.Deliver for the
// message, retrying with backoff as Deliver's error says.
type Outbox interface {
	Enqueue(ctx context.Context, tx Store, d Delivery) error
}

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
