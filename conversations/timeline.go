package conversations

import (
	"context"
	"fmt"
)

// Every message of a customer thread (customer SMS in and out, escalations,
// workflow messages, whatever their source) is recorded on the contact's
// activity timeline exactly once. The Store's own (Config.StoreTimeline, a
// TimelineStore) records in the message's own transaction; a Timeline kept
// elsewhere is fed by a DeliverTimeline job enqueued in that transaction, so
// the entry is never lost while the CRM is down, and a retried job is
// harmless because Record is idempotent on the message.
// Internal staff messages have no contact and are not recorded.

// appendMessage stores m in t (through tx) and, when it is new, puts it on
// its contact's timeline in the same transaction.
func (s *core) appendMessage(ctx context.Context, tx Store, t Thread, m Message) (Message, bool, error) {
	m, created, err := tx.AppendMessage(ctx, m)
	if err != nil || !created {
		return m, created, err
	}
	return m, true, s.recordTimeline(ctx, tx, t, m)
}

// recordTimeline puts m, just stored in t, on its contact's timelines
// through tx: the Store's own in the transaction (tx records it), a
// Timeline kept elsewhere as a queued job.
func (s *core) recordTimeline(ctx context.Context, tx Store, t Thread, m Message) error {
	if t.Kind != ThreadCustomer {
		return nil
	}
	if s.inStore {
		tt, ok := tx.(TimelineStore)
		if !ok {
			// The Store is a TimelineStore (NewService checked); its Tx
			// handed a Store that is not.
			return fmt.Errorf("conversations: timeline: the Store's transaction keeps no timeline (%T)", tx)
		}
		if err := tt.RecordTimeline(ctx, timelineEntry(t, m)); err != nil {
			return fmt.Errorf("conversations: timeline: %w", err)
		}
	}
	if s.timeline == nil {
		return nil
	}
	return s.outbox.Enqueue(ctx, tx, Delivery{Kind: DeliverTimeline, Tenant: m.Tenant, Message: m.ID})
}

// deliverTimeline records m on the host's timeline (a DeliverTimeline job).
func (s *core) deliverTimeline(ctx context.Context, m Message) error {
	if s.timeline == nil {
		return nil
	}
	t, err := s.store.GetThread(ctx, m.Tenant, m.Thread)
	if err != nil {
		return err
	}
	if err := s.timeline.Record(ctx, timelineEntry(t, m)); err != nil {
		return &RetryError{Err: fmt.Errorf("conversations: timeline: %w", err)}
	}
	return nil
}

func timelineEntry(t Thread, m Message) TimelineEntry {
	return TimelineEntry{
		Tenant: m.Tenant, Contact: t.Contact, Thread: m.Thread, Message: m.ID, Kind: m.Kind,
		Direction: m.Direction, Channel: m.Channel, Source: m.Source, Author: m.Author, Body: m.Body, At: m.CreatedAt,
	}
}
