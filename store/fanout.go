package store

import (
	"context"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// The fan-outs owed (migration 0013, conversations.FanOutStore): a mark
// per new message whose viewers are still to be told, written with the
// message and cleared after its fan-out.

var _ conversations.FanOutStore = (*DB)(nil)

// OweFanOut marks message id of tenant owed its fan-out, as of at. Marking
// it again is not an error.
func (s *DB) OweFanOut(ctx context.Context, tenant conversations.TenantID, id conversations.MessageID, at time.Time) error {
	const op = "owe fan-out"
	switch {
	case tenant == "":
		return invalid(op, "tenant", "empty")
	case id == "":
		return invalid(op, "message", "empty")
	}
	_, err := s.exec(ctx, `INSERT INTO fanout_owed (tenant_id, message_id, created_at) VALUES (?, ?, ?)
ON CONFLICT (tenant_id, message_id) DO NOTHING`, string(tenant), string(id), dbTime(at))
	return dbErr(op, err)
}

// OwedFanOuts returns up to limit of the fan-outs marked before before,
// oldest first, of every business (on Citus, a query of every shard).
func (s *DB) OwedFanOuts(ctx context.Context, before time.Time, limit int) ([]conversations.OwedFanOut, error) {
	const op = "owed fan-outs"
	if limit <= 0 {
		return nil, invalid(op, "limit", "must be positive")
	}
	if s.cfg.distributed.Load() && s.tx == nil {
		// The sweep reads every shard, on purpose and rarely: it says so
		// to a cluster that refuses statements of more than one shard
		// (citus.multi_task_query_log_level, as the tests set it).
		var out []conversations.OwedFanOut
		err := s.atomic(ctx, func(tx *DB) error {
			if _, err := tx.exec(ctx, "SET LOCAL citus.multi_task_query_log_level = 'off'"); err != nil {
				return dbErr(op, err)
			}
			var err error
			out, err = tx.OwedFanOuts(ctx, before, limit)
			return err
		})
		return out, err
	}
	rows, err := s.query(ctx, `SELECT tenant_id, message_id, created_at FROM fanout_owed
WHERE created_at < ? ORDER BY created_at, tenant_id, message_id LIMIT ?`, dbTime(before), limit)
	if err != nil {
		return nil, dbErr(op, err)
	}
	defer rows.Close()
	var out []conversations.OwedFanOut
	for rows.Next() {
		var (
			o           conversations.OwedFanOut
			tenant, msg string
		)
		if err := rows.Scan(&tenant, &msg, timeCol{&o.At}); err != nil {
			return nil, dbErr(op, err)
		}
		o.Tenant, o.Message = conversations.TenantID(tenant), conversations.MessageID(msg)
		out = append(out, o)
	}
	return out, dbErr(op, rows.Err())
}

// FanOutDone clears the marks of ids, messages of tenant, in one statement.
// Clearing one that is not marked is not an error.
func (s *DB) FanOutDone(ctx context.Context, tenant conversations.TenantID, ids []conversations.MessageID) error {
	const op = "fan-out done"
	if tenant == "" {
		return invalid(op, "tenant", "empty")
	}
	if len(ids) == 0 {
		return nil
	}
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = string(id)
	}
	if s.pg() {
		// One statement text whatever the count, so it is planned once.
		_, err := s.exec(ctx, `DELETE FROM fanout_owed WHERE tenant_id = ? AND message_id = ANY(?::text[])`, string(tenant), strs)
		return dbErr(op, err)
	}
	args := []any{string(tenant)}
	for _, id := range strs {
		args = append(args, id)
	}
	_, err := s.exec(ctx, `DELETE FROM fanout_owed WHERE tenant_id = ? AND message_id IN (`+placeholders(len(ids))+`)`, args...)
	return dbErr(op, err)
}
