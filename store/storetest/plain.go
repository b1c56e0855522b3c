package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Plain returns st with only the core methods of conversations.Store: every
// optional fast path (conversations.FastStore's) is hidden, on st and on the
// Stores its Tx passes, so a Service over it answers from the fallbacks.
// Run the Service's tests over Plain(st) and over st: equal answers show
// that the fast paths are only faster. When st is a conversations.QueueStore
// or a conversations.PreferenceStore (abilities, not fast paths), so is the
// result (its Enqueue is handed st's own transaction). Unwrap returns st.
func Plain(st conversations.Store) conversations.Store {
	p := &plain{Store: st, st: st}
	q, queues := st.(conversations.QueueStore)
	ps, prefs := st.(conversations.PreferenceStore)
	switch {
	case queues && prefs:
		return &plainQueuePrefs{plainQueue: &plainQueue{plain: p, q: q}, PreferenceStore: ps}
	case queues:
		return &plainQueue{plain: p, q: q}
	case prefs:
		return &plainPrefs{plain: p, PreferenceStore: ps}
	}
	return p
}

// A store's abilities that are not fast paths (it keeps preferences) stay
// visible through Plain: a Service without them answers differently.
type plainPrefs struct {
	*plain
	conversations.PreferenceStore
}

type plainQueuePrefs struct {
	*plainQueue
	conversations.PreferenceStore
}

// plain embeds the interface, not st, so that only Store's methods show.
type plain struct {
	conversations.Store
	st conversations.Store
}

// RecordTimeline is the hidden Store's own (conversations.TimelineStore),
// on a Plain Store and on the Stores its Tx hands over: keeping the
// timeline is an ability, not a fast path, so Plain keeps it visible. Over
// a Store that keeps no timeline it fails.
func (p *plain) RecordTimeline(ctx context.Context, e conversations.TimelineEntry) error {
	tt, ok := p.st.(conversations.TimelineStore)
	if !ok {
		return fmt.Errorf("storetest: %T keeps no timeline", p.st)
	}
	return tt.RecordTimeline(ctx, e)
}

// Unwrap returns the Store p hides the abilities of.
func (p *plain) Unwrap() conversations.Store { return p.st }

func (p *plain) Tx(ctx context.Context, fn func(tx conversations.Store) error) error {
	return p.st.Tx(ctx, func(tx conversations.Store) error { return fn(&plain{Store: tx, st: tx}) })
}

type plainQueue struct {
	*plain
	q conversations.QueueStore
}

func (p *plainQueue) Enqueue(ctx context.Context, tx conversations.Store, d conversations.Delivery) error {
	return p.q.Enqueue(ctx, unwrap(tx), d)
}

// unwrap returns the Store a Plain transaction hides.
func unwrap(st conversations.Store) conversations.Store {
	if p, ok := st.(*plain); ok {
		return p.st
	}
	return st
}

// abilities names the optional interfaces st implements.
func abilities(st conversations.Store) []string {
	var out []string
	if _, ok := st.(conversations.InboundAppender); ok {
		out = append(out, "InboundAppender")
	}
	if _, ok := st.(conversations.VisibleHistoryReader); ok {
		out = append(out, "VisibleHistoryReader")
	}
	if _, ok := st.(conversations.BadgesCounter); ok {
		out = append(out, "BadgesCounter")
	}
	if _, ok := st.(conversations.VisibleThreadsFilter); ok {
		out = append(out, "VisibleThreadsFilter")
	}
	if _, ok := st.(conversations.ThreadsReader); ok {
		out = append(out, "ThreadsReader")
	}
	if _, ok := st.(conversations.StatusFromApplier); ok {
		out = append(out, "StatusFromApplier")
	}
	if _, ok := st.(conversations.DeliveryReader); ok {
		out = append(out, "DeliveryReader")
	}
	return out
}

func logAbilities(t *testing.T, st conversations.Store) {
	t.Logf("storetest: the store's own optional abilities: %v (the rest are checked through conversations.WithFallbacks)", abilities(st))
}
