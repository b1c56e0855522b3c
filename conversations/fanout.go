package conversations

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// A new inbound message's fan-out, off the webhook's path, crash-safe and
// in batches. With a Notifier and a Store that is a FanOutStore, Receive
// files the message and marks its fan-out owed in one step (one statement
// on PostgreSQL), answers, and hands the message to the Service's fan-out
// loop: a few goroutines, each taking a business's waiting messages, telling
// their viewers (one badge round trip and one Notifier call, the in-app Hub
// logging them in one statement), and clearing the marks. A mark
// that outlives its fan-out (a crash after the commit, a failed fan-out) is
// found by FanOutOwed, which the Outbox runs periodically; the notification
// log's one entry per recipient and cause makes a second fan-out tell
// nobody twice.

// FanOutStore is a Store that keeps the fan-outs new messages are owed. It
// is optional, and used only with an Outbox (whose periodic sweep runs
// FanOutOwed): without it a Service with an Outbox fans out through a
// DeliverNotify job per message; one without an Outbox fans out inline.
type FanOutStore interface {
	// AppendInboundOwed is InboundAppender's AppendInbound that, when it
	// creates the message, also marks its fan-out owed (OweFanOut), in the
	// same transaction. A repeat marks nothing.
	AppendInboundOwed(ctx context.Context, t Thread, m Message) (thread Thread, msg Message, created bool, err error)
	// OweFanOut marks message id of tenant owed its fan-out, as of at;
	// marking it again is not an error.
	OweFanOut(ctx context.Context, tenant TenantID, id MessageID, at time.Time) error
	// OwedFanOuts returns up to limit of the fan-outs marked before
	// before, oldest first, of every business.
	OwedFanOuts(ctx context.Context, before time.Time, limit int) ([]OwedFanOut, error)
	// FanOutDone clears the marks of ids, messages of tenant; clearing one
	// that is not marked is not an error.
	FanOutDone(ctx context.Context, tenant TenantID, ids []MessageID) error
}

// OwedFanOut is a message whose viewers have not all been told of it yet.
type OwedFanOut struct {
	Tenant  TenantID
	Message MessageID
	At      time.Time // when it was marked
}

// FanOutPage is the most messages one turn of the fan-out loop, or one
// FanOutOwed call, tells of.
const FanOutPage = 256

// Bounds of the fan-out loop.
const (
	// fanOutQueued is the most messages the loop keeps waiting in memory;
	// past it a new message is left to FanOutOwed (its mark is in the
	// Store), so a Notifier or database that stalls cannot grow the
	// process without bound.
	fanOutQueued = 10_000
	// fanOutParallel is how many businesses the loop, or one FanOutOwed
	// call, tells at once.
	fanOutParallel = 4
	// fanOutTimeout bounds one turn.
	fanOutTimeout = 30 * time.Second
)

// fanOutLoop is the queue of messages whose fan-out is owed, and how many
// goroutines drain it (at most fanOutParallel). A goroutine runs while there
// is work and ends when the queue is empty, so a Service needs no Close.
type fanOutLoop struct {
	mu      sync.Mutex
	queue   []Message
	running int
}

// queueFanOut hands m, committed with its fan-out owed, to the fan-out
// loop, starting a goroutine when fewer than fanOutParallel run: a message
// waits only while every one of them is busy.
func (s *core) queueFanOut(m Message) {
	l := &s.fanOuts
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.queue) >= fanOutQueued {
		s.log.Warn("conversations: notify: fan-out queue full; the message's fan-out is left to FanOutOwed", "message", m.ID)
		return
	}
	l.queue = append(l.queue, m)
	if l.running < fanOutParallel {
		l.running++
		go s.runFanOuts()
	}
}

// runFanOuts drains the fan-out queue: each turn takes the first waiting
// message's business and every message of it waiting (up to FanOutPage),
// and tells their viewers together.
func (s *core) runFanOuts() {
	l := &s.fanOuts
	for {
		l.mu.Lock()
		if len(l.queue) == 0 {
			l.running--
			l.mu.Unlock()
			return
		}
		tenant := l.queue[0].Tenant
		var batch []Message
		rest := l.queue[:0]
		for _, m := range l.queue {
			if m.Tenant == tenant && len(batch) < FanOutPage {
				batch = append(batch, m)
			} else {
				rest = append(rest, m)
			}
		}
		clear(l.queue[len(rest):])
		l.queue = rest
		l.mu.Unlock()
		if err := s.fanOutTurn(tenant, batch); err != nil {
			// It stays owed: FanOutOwed takes it.
			s.log.Error("conversations: notify", "tenant", tenant, "messages", len(batch), "err", err)
		}
	}
}

// fanOutTurn is one turn of the loop, bounded in time. A Notifier that
// panics fails the turn instead of the process (the loop runs on goroutines
// of its own, where nothing else would recover it).
func (s *core) fanOutTurn(tenant TenantID, batch []Message) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), fanOutTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("conversations: notify: panic: %v", p)
		}
	}()
	return s.fanOutTenant(ctx, tenant, batch)
}

// WaitFanOuts waits until the fan-out loop has nothing running or waiting,
// or ctx ends (its error then). A host stopping calls it (the Outbox's Stop
// does, for the Deliverer it was started with) before it closes what the
// loop uses: a fan-out cut short stays owed, but one that has begun is let
// finish.
func (s *Worker) WaitFanOuts(ctx context.Context) error {
	l := &s.fanOuts
	for {
		l.mu.Lock()
		idle := l.running == 0 && len(l.queue) == 0
		l.mu.Unlock()
		if idle {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("conversations: wait for the fan-outs: %w", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// FanOutOwed tells the viewers of every message whose fan-out was marked
// owed more than olderThan ago and is still owed (a crash between a
// message's commit and its fan-out, a fan-out that failed), then clears
// the marks, up to FanOutPage messages a call. It returns how many it
// took. The Outbox runs it periodically (outbox.WithFanOutSweep); a host
// without an Outbox calls it itself. Safe to run anywhere at any time: a
// message told of twice tells nobody twice through a Notifier that logs.
func (s *Worker) FanOutOwed(ctx context.Context, olderThan time.Duration) (int, error) {
	owes, ok := s.store.(FanOutStore)
	if !ok || s.notifier == nil {
		return 0, nil
	}
	owed, err := owes.OwedFanOuts(ctx, s.now().Add(-olderThan), FanOutPage)
	if err != nil {
		return 0, fmt.Errorf("conversations: fan-outs owed: %w", err)
	}
	ms := make([]Message, 0, len(owed))
	for _, o := range owed {
		m, err := s.store.GetMessage(ctx, o.Tenant, o.Message)
		switch {
		case isNotFound(err):
			// Gone (its business erased): nothing to tell.
			if err := owes.FanOutDone(ctx, o.Tenant, []MessageID{o.Message}); err != nil {
				return 0, fmt.Errorf("conversations: fan-outs owed: %w", err)
			}
			continue
		case err != nil:
			return 0, fmt.Errorf("conversations: fan-outs owed: %w", err)
		}
		ms = append(ms, m)
	}
	return len(owed), s.fanOutMany(ctx, ms)
}

// fanOutMany tells the viewers of each of ms (fanOut for each, a business
// at a time, several at once) and clears the owed marks of those whose
// fan-out went out. Errors are logged, and returned joined.
func (s *core) fanOutMany(ctx context.Context, ms []Message) error {
	byTenant := map[TenantID][]Message{}
	var tenants []TenantID
	for _, m := range ms {
		if _, ok := byTenant[m.Tenant]; !ok {
			tenants = append(tenants, m.Tenant)
		}
		byTenant[m.Tenant] = append(byTenant[m.Tenant], m)
	}
	errs := make([]error, len(tenants))
	var wg sync.WaitGroup
	sem := make(chan struct{}, fanOutParallel)
	for i, tenant := range tenants {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = s.fanOutTenant(ctx, tenant, byTenant[tenant])
			if errs[i] != nil {
				s.log.ErrorContext(ctx, "conversations: notify", "tenant", tenant, "messages", len(byTenant[tenant]), "err", errs[i])
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// fanOutTenant tells the viewers of ms, new messages of one business, in
// one send, then clears their owed marks.
func (s *core) fanOutTenant(ctx context.Context, tenant TenantID, ms []Message) error {
	staff, err := s.store.ListStaff(ctx, tenant)
	if err != nil {
		return fmt.Errorf("conversations: notify: list staff: %w", err)
	}
	ids := make([]ThreadID, len(ms))
	for i, m := range ms {
		ids[i] = m.Thread
	}
	got, err := s.fast.GetThreads(ctx, tenant, ids)
	if err != nil {
		return fmt.Errorf("conversations: notify: load threads: %w", err)
	}
	threads := make(map[ThreadID]Thread, len(got))
	for _, t := range got {
		threads[t.ID] = t
	}
	var ns []Notification
	for _, m := range ms {
		t, ok := threads[m.Thread]
		if !ok {
			// Gone with its business: nobody to tell.
			continue
		}
		ns = append(ns, s.messageNotifications(m, t, staff)...)
	}
	if err := s.send(ctx, staff, ns, threads); err != nil {
		return err
	}
	if owes, ok := s.store.(FanOutStore); ok {
		ids := make([]MessageID, len(ms))
		for i, m := range ms {
			ids[i] = m.ID
		}
		if err := owes.FanOutDone(ctx, tenant, ids); err != nil {
			return fmt.Errorf("conversations: notify: clear the owed marks: %w", err)
		}
	}
	return nil
}
