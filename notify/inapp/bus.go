package inapp

import (
	"context"
	"fmt"
	"sync"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Signal says that a recipient has a new notification in the Log. It carries
// no notification: a Hub that streams to the recipient reads what is new
// from the Log, so a Bus can be as small as PostgreSQL's NOTIFY payload.
type Signal struct {
	Tenant conversations.TenantID
	Staff  conversations.StaffID
	ID     string // the new notification's id
	// Lost says the Bus may have dropped signals (its connection was down):
	// every Hub catches every recipient it streams to up from the Log.
	// Tenant, Staff and ID are empty.
	Lost bool
}

// Bus carries Signals between the Hubs of every server instance, so that a
// phone connected to one instance hears of a message another received.
//
// Publish delivers s to every subscriber of every Bus on the same medium,
// the publisher's own included. It honours ctx and is safe for concurrent
// use. Delivery is best effort: a signal may come twice, late or out of
// order, which a Hub tolerates since it reads from the Log in id order; one
// that may have been dropped is announced with a Lost signal.
//
// Subscribe registers fn until the returned func is called. fn is called
// from the Bus's goroutine (or the publisher's) and must return quickly.
type Bus interface {
	Publish(ctx context.Context, s Signal) error
	Subscribe(fn func(Signal)) (unsubscribe func())
}

// LocalBus is the Bus of a single server instance (the embedded SQLite
// setup): Publish calls the subscribers directly.
type LocalBus struct {
	mu   sync.RWMutex
	next int
	subs map[int]func(Signal)
}

var _ Bus = (*LocalBus)(nil)

// NewLocalBus returns an in-process Bus.
func NewLocalBus() *LocalBus { return &LocalBus{subs: map[int]func(Signal){}} }

// Publish calls every subscriber with s.
func (b *LocalBus) Publish(ctx context.Context, s Signal) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("inapp: publish: %w", err)
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, fn := range b.subs {
		fn(s)
	}
	return nil
}

// Subscribe registers fn until the returned func is called.
func (b *LocalBus) Subscribe(fn func(Signal)) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.next
	b.next++
	b.subs[id] = fn
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, id)
	}
}
