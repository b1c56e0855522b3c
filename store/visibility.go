package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/pgexec"
)

// staff_thread_visibility is kept in step with participants, job links and
// job assignments by the functions below, always inside the transaction that
// makes the change. Each runs on a DB bound to that transaction.
//
// A row also carries copies of what the inbox sorts by and the badge sums:
// its thread's kind, archived, last_message_at and last_seq, and its staff
// member's read horizon (read_seq). A new row copies them from threads and
// read_marks; from then on the statements below keep them in step, each in
// the transaction of the change it follows: bumpVisibilitySQL (every new
// message), archiveVisibilitySQL (SetArchived) and readVisibilitySQL
// (MarkRead).
//
// On PostgreSQL a new row's copies are read under the thread row's lock
// (lockThreadSQL), taken in a statement of its own: a message, an archive or
// a read of the thread committing meanwhile would otherwise update the
// thread's rows without seeing the one being inserted, while the insert read
// the values from before it, and the copy would stay behind. The lock waits
// for those to commit (and holds them off until this transaction does), and
// the insert, a later statement, sees what they wrote. Job locks, when
// taken, come first.

// bumpVisibilitySQL brings a thread's visibility rows in step with a new
// message, after the thread's own bump: last_message_at moves to the
// message's time when later (the expression the thread's bump uses, so the
// two stay equal), last_seq to the thread's new one, and archived goes
// false, as a new message brings an archived thread back. Arguments: the
// message's time (twice), the thread's new last_seq, tenant, thread.
const bumpVisibilitySQL = `UPDATE staff_thread_visibility
SET last_message_at = CASE WHEN last_message_at < ? THEN ? ELSE last_message_at END, last_seq = ?, archived = false
WHERE tenant_id = ? AND thread_id = ?`

// archiveVisibilitySQL follows SetArchived. Arguments: archived, tenant,
// thread.
const archiveVisibilitySQL = `UPDATE staff_thread_visibility SET archived = ?
WHERE tenant_id = ? AND thread_id = ?`

// readVisibilitySQL moves the reader's row (if they have one) to their new
// read horizon, forward only. Arguments: horizon (twice), tenant, staff,
// thread.
const readVisibilitySQL = `UPDATE staff_thread_visibility
SET read_seq = CASE WHEN read_seq < ? THEN ? ELSE read_seq END
WHERE tenant_id = ? AND staff_id = ? AND thread_id = ?`

// lockThreadSQL locks one thread row against messages, archives and reads
// until the transaction ends (see above). Arguments: tenant, thread.
const lockThreadSQL = `SELECT 1 FROM threads t WHERE t.tenant_id = ? AND t.id = ? FOR NO KEY UPDATE`

// New visibility rows are read, then inserted: a SELECT of the rows'
// values (the copies from threads t, and the staff member's read horizon),
// then one INSERT ... VALUES per row. An INSERT ... SELECT would be one
// statement, but Citus runs it on every shard of the table (it prunes the
// shards of neither side), where each of these runs on the tenant's.
//
// visibilityCopy selects a row's copies from threads t and the read
// horizon of the staff member in column staffExpr; its argument is the
// tenant, named rather than taken from t so that Citus sees the subquery's
// shard.
const visibilityCopy = `t.id, t.kind, t.archived, t.last_message_at, t.last_seq,
  coalesce((SELECT r.read_seq FROM read_marks r WHERE r.tenant_id = ? AND r.staff_id = %[1]s AND r.thread_id = t.id), 0)`

// insertVisibilitySQL inserts one visibility row, or adds its reasons to
// the row there is: participant, and job_refs (0 or 1). Arguments: tenant,
// staff, thread, participant, job_refs, kind, archived, last_message_at,
// last_seq, read_seq.
const insertVisibilitySQL = `INSERT INTO staff_thread_visibility
  (tenant_id, staff_id, thread_id, participant, job_refs, kind, archived, last_message_at, last_seq, read_seq)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant_id, staff_id, thread_id) DO UPDATE
SET participant = staff_thread_visibility.participant OR EXCLUDED.participant,
    job_refs = staff_thread_visibility.job_refs + EXCLUDED.job_refs`

// addVisibility reads the new visibility rows query selects (staff_id,
// then visibilityCopy's columns) and inserts each, for participant or with
// one job reference.
func (s *DB) addVisibility(ctx context.Context, tenant conversations.TenantID, participant bool, query string, args ...any) error {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return err
	}
	var inserts [][]any
	for rows.Next() {
		var (
			staff, thread, kind string
			archived            bool
			at                  time.Time
			seq, read           int64
		)
		if err := rows.Scan(&staff, &thread, &kind, &archived, timeCol{&at}, &seq, &read); err != nil {
			_ = rows.Close()
			return err
		}
		refs := 1
		if participant {
			refs = 0
		}
		inserts = append(inserts, []any{string(tenant), staff, thread, participant, refs, kind, archived, at, seq, read})
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if s.pg() && len(inserts) > 1 {
		// One round trip for them all.
		stmts := make([]pgexec.Statement, len(inserts))
		for i, a := range inserts {
			stmts[i] = pgexec.Statement{SQL: insertVisibilityPG, Args: a}
		}
		return s.pipeline(ctx, "add visibility", stmts...)
	}
	for _, a := range inserts {
		if _, err := s.exec(ctx, insertVisibilitySQL, a...); err != nil {
			return err
		}
	}
	return nil
}

var insertVisibilityPG = numbered(insertVisibilitySQL)

// bumpVisibility runs bumpVisibilitySQL for a message appended at at that
// took seq.
func (s *DB) bumpVisibility(ctx context.Context, tenant conversations.TenantID, thread conversations.ThreadID, at time.Time, seq int64) error {
	_, err := s.exec(ctx, bumpVisibilitySQL, at, at, seq, string(tenant), string(thread))
	return err
}

// lockThread takes lockThreadSQL's lock on PostgreSQL; SQLite's write
// transactions already run one at a time.
func (s *DB) lockThread(ctx context.Context, tenant conversations.TenantID, thread conversations.ThreadID) error {
	if !s.pg() {
		return nil
	}
	_, err := s.exec(ctx, lockThreadSQL, string(tenant), string(thread))
	return err
}

func (s *DB) addParticipant(ctx context.Context, tenant conversations.TenantID, thread conversations.ThreadID, staff conversations.StaffID) error {
	res, err := s.exec(ctx, `INSERT INTO thread_participants (tenant_id, thread_id, staff_id) VALUES (?, ?, ?)
ON CONFLICT DO NOTHING`, string(tenant), string(thread), string(staff))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	if err := s.lockThread(ctx, tenant, thread); err != nil {
		return err
	}
	return s.addVisibility(ctx, tenant, true, `SELECT CAST(? AS TEXT), `+fmt.Sprintf(visibilityCopy, "?")+`
FROM threads t WHERE t.tenant_id = ? AND t.id = ?`,
		string(staff), string(tenant), string(staff), string(tenant), string(thread))
}

func (s *DB) removeParticipant(ctx context.Context, tenant conversations.TenantID, thread conversations.ThreadID, staff conversations.StaffID) error {
	res, err := s.exec(ctx, `DELETE FROM thread_participants WHERE tenant_id = ? AND thread_id = ? AND staff_id = ?`,
		string(tenant), string(thread), string(staff))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	if _, err := s.exec(ctx, `DELETE FROM staff_thread_visibility
WHERE tenant_id = ? AND staff_id = ? AND thread_id = ? AND job_refs = 0`,
		string(tenant), string(staff), string(thread)); err != nil {
		return err
	}
	_, err = s.exec(ctx, `UPDATE staff_thread_visibility SET participant = false
WHERE tenant_id = ? AND staff_id = ? AND thread_id = ?`,
		string(tenant), string(staff), string(thread))
	return err
}

// linkJob links job to thread and gives each of the job's assignees one more
// reason to see the thread. The caller holds the job's lock.
func (s *DB) linkJob(ctx context.Context, tenant conversations.TenantID, thread conversations.ThreadID, job conversations.JobID) error {
	res, err := s.exec(ctx, `INSERT INTO thread_jobs (tenant_id, thread_id, job_id) VALUES (?, ?, ?)
ON CONFLICT DO NOTHING`, string(tenant), string(thread), string(job))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	if err := s.lockThread(ctx, tenant, thread); err != nil {
		return err
	}
	return s.addVisibility(ctx, tenant, false, `SELECT a.staff_id, `+fmt.Sprintf(visibilityCopy, "a.staff_id")+`
FROM job_assignments a CROSS JOIN threads t
WHERE a.tenant_id = ? AND a.job_id = ? AND t.tenant_id = ? AND t.id = ?
ORDER BY a.staff_id`,
		string(tenant), string(tenant), string(job), string(tenant), string(thread))
}

// unlinkJob is linkJob undone. The caller holds the job's lock.
func (s *DB) unlinkJob(ctx context.Context, tenant conversations.TenantID, thread conversations.ThreadID, job conversations.JobID) error {
	res, err := s.exec(ctx, `DELETE FROM thread_jobs WHERE tenant_id = ? AND thread_id = ? AND job_id = ?`,
		string(tenant), string(thread), string(job))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	if _, err := s.exec(ctx, `UPDATE staff_thread_visibility SET job_refs = job_refs - 1
WHERE tenant_id = ? AND thread_id = ?
  AND staff_id IN (SELECT a.staff_id FROM job_assignments a WHERE a.tenant_id = ? AND a.job_id = ?)`,
		string(tenant), string(thread), string(tenant), string(job)); err != nil {
		return err
	}
	_, err = s.exec(ctx, `DELETE FROM staff_thread_visibility
WHERE tenant_id = ? AND thread_id = ? AND NOT participant AND job_refs = 0
  AND staff_id IN (SELECT a.staff_id FROM job_assignments a WHERE a.tenant_id = ? AND a.job_id = ?)`,
		string(tenant), string(thread), string(tenant), string(job))
	return err
}

// assign assigns staff to job and gives them one more reason to see each
// thread the job is linked to. The caller holds the job's lock.
func (s *DB) assign(ctx context.Context, tenant conversations.TenantID, job conversations.JobID, staff conversations.StaffID) error {
	res, err := s.exec(ctx, `INSERT INTO job_assignments (tenant_id, job_id, staff_id) VALUES (?, ?, ?)
ON CONFLICT DO NOTHING`, string(tenant), string(job), string(staff))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	if s.pg() {
		// The job's threads, in id order, so that two assignments sharing
		// threads lock them in one order; the job's lock keeps the set from
		// changing meanwhile.
		if _, err := s.exec(ctx, `SELECT 1 FROM thread_jobs j CROSS JOIN threads t
WHERE j.tenant_id = ? AND j.job_id = ? AND t.tenant_id = ? AND t.id = j.thread_id
ORDER BY t.id FOR NO KEY UPDATE OF t`, string(tenant), string(job), string(tenant)); err != nil {
			return err
		}
	}
	return s.addVisibility(ctx, tenant, false, `SELECT CAST(? AS TEXT), `+fmt.Sprintf(visibilityCopy, "?")+`
FROM thread_jobs j CROSS JOIN threads t
WHERE j.tenant_id = ? AND j.job_id = ? AND t.tenant_id = ? AND t.id = j.thread_id
ORDER BY j.thread_id`,
		string(staff), string(tenant), string(staff), string(tenant), string(job), string(tenant))
}

// unassign is assign undone. The caller holds the job's lock.
func (s *DB) unassign(ctx context.Context, tenant conversations.TenantID, job conversations.JobID, staff conversations.StaffID) error {
	res, err := s.exec(ctx, `DELETE FROM job_assignments WHERE tenant_id = ? AND job_id = ? AND staff_id = ?`,
		string(tenant), string(job), string(staff))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	if _, err := s.exec(ctx, `UPDATE staff_thread_visibility SET job_refs = job_refs - 1
WHERE tenant_id = ? AND staff_id = ?
  AND thread_id IN (SELECT j.thread_id FROM thread_jobs j WHERE j.tenant_id = ? AND j.job_id = ?)`,
		string(tenant), string(staff), string(tenant), string(job)); err != nil {
		return err
	}
	_, err = s.exec(ctx, `DELETE FROM staff_thread_visibility
WHERE tenant_id = ? AND staff_id = ? AND NOT participant AND job_refs = 0
  AND thread_id IN (SELECT j.thread_id FROM thread_jobs j WHERE j.tenant_id = ? AND j.job_id = ?)`,
		string(tenant), string(staff), string(tenant), string(job))
	return err
}

// lockJobs serializes, per job, the changes that read one of thread_jobs and
// job_assignments while writing the other (linking a job, assigning it).
// Without it, on PostgreSQL, a link and an assignment committed side by side
// would each miss the other's new row, and the assignee would never get the
// visibility row. SQLite needs nothing: its write transactions already run
// one at a time. Jobs are locked in the order given, which callers sort.
func (s *DB) lockJobs(ctx context.Context, tenant conversations.TenantID, jobs ...conversations.JobID) error {
	if !s.pg() {
		return nil
	}
	for _, j := range jobs {
		key := "fieldtalk.job:" + strconv.Itoa(len(tenant)) + ":" + string(tenant) + ":" + string(j)
		if _, err := s.exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, key); err != nil {
			return err
		}
	}
	return nil
}
