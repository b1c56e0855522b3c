package store

import (
	"context"
	"strconv"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// staff_thread_visibility is kept in step with participants, job links and
// job assignments by the functions below, always inside the transaction that
// makes the change (never per message). Each runs on a DB bound to that
// transaction.

func (s *DB) addParticipant(ctx context.Context, tenant conversations.TenantID, thread conversations.ThreadID, staff conversations.StaffID) error {
	res, err := s.exec(ctx, `INSERT INTO thread_participants (tenant_id, thread_id, staff_id) VALUES (?, ?, ?)
ON CONFLICT DO NOTHING`, string(tenant), string(thread), string(staff))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO staff_thread_visibility (tenant_id, staff_id, thread_id, participant, job_refs)
VALUES (?, ?, ?, true, 0)
ON CONFLICT (tenant_id, staff_id, thread_id) DO UPDATE SET participant = true`,
		string(tenant), string(staff), string(thread))
	return err
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
	_, err = s.exec(ctx, `INSERT INTO staff_thread_visibility (tenant_id, staff_id, thread_id, participant, job_refs)
SELECT a.tenant_id, a.staff_id, ?, false, 1 FROM job_assignments a
WHERE a.tenant_id = ? AND a.job_id = ?
ORDER BY a.staff_id
ON CONFLICT (tenant_id, staff_id, thread_id) DO UPDATE
SET job_refs = staff_thread_visibility.job_refs + 1`,
		string(thread), string(tenant), string(job))
	return err
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
	_, err = s.exec(ctx, `INSERT INTO staff_thread_visibility (tenant_id, staff_id, thread_id, participant, job_refs)
SELECT j.tenant_id, ?, j.thread_id, false, 1 FROM thread_jobs j
WHERE j.tenant_id = ? AND j.job_id = ?
ORDER BY j.thread_id
ON CONFLICT (tenant_id, staff_id, thread_id) DO UPDATE
SET job_refs = staff_thread_visibility.job_refs + 1`,
		string(staff), string(tenant), string(job))
	return err
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
