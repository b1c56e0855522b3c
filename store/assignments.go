package store

import (
	"context"
	"slices"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Assign assigns staff to a job (those assigned already stay). The threads
// linked to the job become visible to them from the next read on.
func (s *DB) Assign(ctx context.Context, tenant conversations.TenantID, job conversations.JobID, staff ...conversations.StaffID) error {
	return s.eachAssignment(ctx, "assign", tenant, job, staff, (*DB).assign)
}

// Unassign removes staff from a job (those not assigned are skipped).
func (s *DB) Unassign(ctx context.Context, tenant conversations.TenantID, job conversations.JobID, staff ...conversations.StaffID) error {
	return s.eachAssignment(ctx, "unassign", tenant, job, staff, (*DB).unassign)
}

// eachAssignment applies change to each of staff under the job's lock, in
// one transaction, in a fixed order (so concurrent changes cannot deadlock).
func (s *DB) eachAssignment(ctx context.Context, op string, tenant conversations.TenantID, job conversations.JobID, staff []conversations.StaffID,
	change func(*DB, context.Context, conversations.TenantID, conversations.JobID, conversations.StaffID) error) error {
	if err := checkAssignment(op, tenant, job, staff); err != nil {
		return err
	}
	if len(staff) == 0 {
		return nil
	}
	return s.atomic(ctx, func(tx *DB) error {
		if err := tx.lockJobs(ctx, tenant, job); err != nil {
			return dbErr(op, err)
		}
		for _, st := range uniqueSorted(staff) {
			if err := change(tx, ctx, tenant, job, st); err != nil {
				return dbErr(op, err)
			}
		}
		return nil
	})
}

// SetAssignees replaces a job's assignees; an empty list clears them.
func (s *DB) SetAssignees(ctx context.Context, tenant conversations.TenantID, job conversations.JobID, staff []conversations.StaffID) error {
	const op = "set assignees"
	if err := checkAssignment(op, tenant, job, staff); err != nil {
		return err
	}
	want := uniqueSorted(staff)
	return s.atomic(ctx, func(tx *DB) error {
		if err := tx.lockJobs(ctx, tenant, job); err != nil {
			return dbErr(op, err)
		}
		have, err := tx.Assignees(ctx, tenant, job)
		if err != nil {
			return err
		}
		for _, st := range have {
			if _, keep := slices.BinarySearch(want, st); !keep {
				if err := tx.unassign(ctx, tenant, job, st); err != nil {
					return dbErr(op, err)
				}
			}
		}
		for _, st := range want {
			if _, had := slices.BinarySearch(have, st); !had {
				if err := tx.assign(ctx, tenant, job, st); err != nil {
					return dbErr(op, err)
				}
			}
		}
		return nil
	})
}

// Assignees returns a job's assignees ordered by id.
func (s *DB) Assignees(ctx context.Context, tenant conversations.TenantID, job conversations.JobID) ([]conversations.StaffID, error) {
	const op = "assignees"
	rows, err := s.query(ctx, `SELECT a.staff_id FROM job_assignments a WHERE a.tenant_id = ? AND a.job_id = ?`,
		string(tenant), string(job))
	if err != nil {
		return nil, dbErr(op, err)
	}
	defer rows.Close()
	var out []conversations.StaffID
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, dbErr(op, err)
		}
		out = append(out, conversations.StaffID(id))
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(op, err)
	}
	// Sorted here, byte-wise, so the order never depends on a collation.
	slices.Sort(out)
	return out, nil
}

func checkAssignment(op string, tenant conversations.TenantID, job conversations.JobID, staff []conversations.StaffID) error {
	switch {
	case tenant == "":
		return invalid(op, "tenant", "empty")
	case job == "":
		return invalid(op, "job", "empty")
	}
	for _, st := range staff {
		if st == "" {
			return invalid(op, "staff", "empty id")
		}
	}
	return nil
}
