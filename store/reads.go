package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// MarkRead moves staff's read horizon in a thread forward to seq, clamped to
// the thread's LastSeq, and returns the horizon after the call. The staff
// member's visibility row of the thread, if any, follows, and on a
// non-archived customer thread their read counter moves by the same amount,
// in the same transaction.
//
// The thread row is share-locked on PostgreSQL so that neither an append
// (which moves LastSeq) nor an archive (which moves the counters) interleaves
// with the clamp and the counter update; readers of one thread do not block
// each other. The horizon itself moves by compare-and-set on the value read,
// so two devices of one person marking read at once add the right delta.
func (s *DB) MarkRead(ctx context.Context, tenant conversations.TenantID, staff conversations.StaffID, thread conversations.ThreadID, seq int64) (int64, error) {
	const op = "mark read"
	if staff == "" {
		return 0, invalid(op, "staff", "empty")
	}
	if seq < 0 {
		return 0, invalid(op, "seq", "negative")
	}
	lockThread, lockMark := "", ""
	if s.pg() {
		lockThread, lockMark = " FOR SHARE OF t", " FOR UPDATE"
	}
	var horizon int64
	err := s.atomic(ctx, func(tx *DB) error {
		var (
			kind     string
			lastSeq  int64
			archived bool
			old      sql.NullInt64
		)
		// The tenant is named in the subquery too: Citus routes a locking
		// read only when it sees the shard of every table it reads.
		err := tx.queryRow(ctx, `SELECT t.kind, t.last_seq, t.archived,
  (SELECT r.read_seq FROM read_marks r WHERE r.tenant_id = ? AND r.staff_id = ? AND r.thread_id = t.id)
FROM threads t WHERE t.tenant_id = ? AND t.id = ?`+lockThread,
			string(tenant), string(staff), string(tenant), string(thread)).Scan(&kind, &lastSeq, &archived, &old)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(op, "thread "+string(thread))
		}
		if err != nil {
			return dbErr(op, err)
		}
		want := min(seq, lastSeq)
		horizon = old.Int64
		if want <= horizon {
			return nil
		}
		moved := false
		if !old.Valid {
			res, err := tx.exec(ctx, `INSERT INTO read_marks (tenant_id, staff_id, thread_id, read_seq)
VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, string(tenant), string(staff), string(thread), want)
			if err != nil {
				return dbErr(op, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return dbErr(op, err)
			}
			moved = n == 1
		} else {
			res, err := tx.exec(ctx, `UPDATE read_marks SET read_seq = ?
WHERE tenant_id = ? AND staff_id = ? AND thread_id = ? AND read_seq = ?`,
				want, string(tenant), string(staff), string(thread), old.Int64)
			if err != nil {
				return dbErr(op, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return dbErr(op, err)
			}
			moved = n == 1
		}
		if !moved {
			// Another device moved the horizon since we read it: read it
			// again under the row's lock and go from there.
			if err := tx.queryRow(ctx, `SELECT r.read_seq FROM read_marks r
WHERE r.tenant_id = ? AND r.staff_id = ? AND r.thread_id = ?`+lockMark,
				string(tenant), string(staff), string(thread)).Scan(&horizon); err != nil {
				return dbErr(op, err)
			}
			if want <= horizon {
				return nil
			}
			if _, err := tx.exec(ctx, `UPDATE read_marks SET read_seq = ?
WHERE tenant_id = ? AND staff_id = ? AND thread_id = ?`,
				want, string(tenant), string(staff), string(thread)); err != nil {
				return dbErr(op, err)
			}
		}
		delta := want - horizon
		horizon = want
		if _, err := tx.exec(ctx, readVisibilitySQL, want, want, string(tenant), string(staff), string(thread)); err != nil {
			return dbErr(op, err)
		}
		if kind == string(conversations.ThreadCustomer) && !archived {
			return dbErr(op, tx.addStaffRead(ctx, tenant, staff, delta))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return horizon, nil
}

// ReadHorizon returns staff's horizon in a thread, 0 when never read.
func (s *DB) ReadHorizon(ctx context.Context, tenant conversations.TenantID, staff conversations.StaffID, thread conversations.ThreadID) (int64, error) {
	var h int64
	err := s.queryRow(ctx, `SELECT coalesce((SELECT r.read_seq FROM read_marks r
  WHERE r.tenant_id = ? AND r.staff_id = ? AND r.thread_id = t.id), 0)
FROM threads t WHERE t.tenant_id = ? AND t.id = ?`, string(tenant), string(staff), string(tenant), string(thread)).Scan(&h)
	if err != nil {
		return 0, dbErr("read horizon", err)
	}
	return h, nil
}
