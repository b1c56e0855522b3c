package store

import (
	"context"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// ApplyStatusFrom applies u to have, the message as the caller last read
// it, in one statement: the write only lands while the row is still what
// the caller read (every column Merge touches compares equal), so it
// never loses a concurrent report; when the row has moved on, it is
// ApplyStatus, which locks and reads it again. A delivery attempt, which
// has just read its message, saves the lock's round trips this way.
func (s *DB) ApplyStatusFrom(ctx context.Context, have conversations.Message, u conversations.StatusUpdate) (conversations.Message, bool, error) {
	if u.Tenant != have.Tenant || (u.Message != "" && u.Message != have.ID) || have.ID == "" || !u.Status.Valid() {
		return s.ApplyStatus(ctx, u)
	}
	if u.At.IsZero() {
		u.At = s.now()
	}
	u.At = dbTime(u.At)
	out, changed := conversations.Merge(have, u)
	if !changed {
		// Merge only moves forward: what changes nothing on what the caller
		// read changes nothing on anything newer either.
		return have, false, nil
	}
	res, err := s.exec(ctx, `UPDATE messages
SET status = ?, sent_at = ?, delivered_at = ?, failed_at = ?, provider_id = ?, error_code = ?, error_reason = ?
WHERE tenant_id = ? AND thread_id = ? AND seq = ?
  AND status = ? AND provider_id = ? AND error_code = ? AND error_reason = ?
  AND sent_at IS NOT DISTINCT FROM ? AND delivered_at IS NOT DISTINCT FROM ? AND failed_at IS NOT DISTINCT FROM ?`,
		string(out.Status), nullTime(out.SentAt), nullTime(out.DeliveredAt), nullTime(out.FailedAt),
		out.ProviderID, out.ErrorCode, out.ErrorReason, string(have.Tenant), string(have.Thread), have.Seq,
		string(have.Status), have.ProviderID, have.ErrorCode, have.ErrorReason,
		nullTime(have.SentAt), nullTime(have.DeliveredAt), nullTime(have.FailedAt))
	if err != nil {
		return conversations.Message{}, false, dbErr("apply status", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		return out, true, nil
	}
	u.Tenant, u.Message = have.Tenant, have.ID
	return s.ApplyStatus(ctx, u)
}
