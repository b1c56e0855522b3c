package store

import (
	"context"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// MessageKey names one message of one business.
type MessageKey struct {
	Tenant conversations.TenantID
	ID     conversations.MessageID
}

// UnfinishedOutbound returns, in id order after the message id after, at
// most limit outbound messages a provider has accepted (they have a
// provider id) that have no final status yet (sending or sent) and were
// created in [from, to). The outbox's status sweep pages through them to
// find messages with no status check queued (store/outbox).
//
// It reads across businesses: it is a background sweep, not a request. No
// index serves it (one on the status would cost every status write its
// HOT update), so each call reads the messages table; the sweep runs
// rarely.
func (s *DB) UnfinishedOutbound(ctx context.Context, from, to time.Time, after conversations.MessageID, limit int) ([]MessageKey, error) {
	if limit <= 0 {
		return nil, conversations.Invalid("limit", "must be positive")
	}
	rows, err := s.query(ctx, `SELECT tenant_id, id FROM messages
WHERE direction = 'outbound' AND status IN ('sending', 'sent') AND provider_id <> '' AND created_at >= ? AND created_at < ? AND id > ?
ORDER BY id LIMIT ?`, dbTime(from), dbTime(to), string(after), limit)
	if err != nil {
		return nil, dbErr("unfinished outbound", err)
	}
	defer rows.Close()
	var out []MessageKey
	for rows.Next() {
		var tenant, id string
		if err := rows.Scan(&tenant, &id); err != nil {
			return nil, dbErr("unfinished outbound", err)
		}
		out = append(out, MessageKey{Tenant: conversations.TenantID(tenant), ID: conversations.MessageID(id)})
	}
	return out, dbErr("unfinished outbound", rows.Err())
}
