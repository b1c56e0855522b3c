package store

import (
	"context"
	"fmt"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// MessageKey names one message of one business.
type MessageKey struct {
	Tenant conversations.TenantID
	ID     conversations.MessageID
}

// UnfinishedOutbound returns, in (business, id) order after the message
// after (the zero key for the start), at most limit outbound messages a
// provider has accepted (they have a provider id) that have no final status
// yet (sending or sent) and were created in [from, to). The outbox's status
// sweep pages through them to find messages with no status check queued
// (store/outbox).
//
// It reads one business at a time (every business with a number), each
// from the first message id made at from on: the library's message ids are
// UUIDv7, whose text order is their creation order, so each read is a range
// of the (tenant_id, id) index and a sweep costs the window's messages,
// not the whole history (messages are kept forever; an index on the status
// would cost every status write its HOT update). Every statement names its
// business, so on Citus each goes to one shard.
func (s *DB) UnfinishedOutbound(ctx context.Context, from, to time.Time, after MessageKey, limit int) ([]MessageKey, error) {
	const op = "unfinished outbound"
	if limit <= 0 {
		return nil, conversations.Invalid("limit", "must be positive")
	}
	tenants, err := s.column(ctx, `SELECT DISTINCT tenant_id FROM business_numbers WHERE tenant_id >= ? ORDER BY tenant_id`, string(after.Tenant))
	if err != nil {
		return nil, dbErr(op, err)
	}
	first := string(firstIDAt(from))
	var out []MessageKey
	for _, tenant := range tenants {
		since := ""
		if tenant == string(after.Tenant) {
			since = string(after.ID)
		}
		ids, err := s.column(ctx, `SELECT id FROM messages
WHERE tenant_id = ? AND id >= ? AND id > ?
  AND direction = 'outbound' AND status IN ('sending', 'sent') AND provider_id <> '' AND created_at >= ? AND created_at < ?
ORDER BY id LIMIT ?`, tenant, first, since, dbTime(from), dbTime(to), limit-len(out))
		if err != nil {
			return nil, dbErr(op, err)
		}
		for _, id := range ids {
			out = append(out, MessageKey{Tenant: conversations.TenantID(tenant), ID: conversations.MessageID(id)})
		}
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// firstIDAt is a text at or below every UUIDv7 made at t or later (its
// millisecond timestamp, then zeros: a real one has version 7 next).
func firstIDAt(t time.Time) conversations.MessageID {
	ms := max(t.UnixMilli(), 0)
	return conversations.MessageID(fmt.Sprintf("%08x-%04x-0000-0000-000000000000", uint64(ms)>>16, uint64(ms)&0xffff))
}
