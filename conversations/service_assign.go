package conversations

import (
	"context"
	"slices"

	"go.opentelemetry.io/otel/trace"
)

// Job assignments come from the host's CRM, which pushes them in. They are
// kept by the library because visibility must be answered inside the
// database, indexed; a change takes effect on the very next read.

// Assign assigns staff of tenant to a job.
func (s *Sync) Assign(ctx context.Context, tenant TenantID, job JobID, staff ...StaffID) (err error) {
	ctx, span := s.tel.start(ctx, "conversations.Assign", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := validateAssignment(tenant, job, staff); err != nil {
		return err
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		if err := s.requireStaff(ctx, tx, tenant, staff...); err != nil {
			return err
		}
		return tx.Assign(ctx, tenant, job, staff...)
	})
	if err == nil {
		s.notifyBadges(ctx, tenant, "", staff)
	}
	return err
}

// Unassign removes staff from a job.
func (s *Sync) Unassign(ctx context.Context, tenant TenantID, job JobID, staff ...StaffID) (err error) {
	ctx, span := s.tel.start(ctx, "conversations.Unassign", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := validateAssignment(tenant, job, staff); err != nil {
		return err
	}
	if err := s.store.Unassign(ctx, tenant, job, staff...); err != nil {
		return err
	}
	s.notifyBadges(ctx, tenant, "", staff)
	return nil
}

// SyncAssignments replaces the assignees of every job in jobs (an empty list
// clears a job's assignees), in one transaction: the CRM's bulk sync.
func (s *Sync) SyncAssignments(ctx context.Context, tenant TenantID, jobs map[JobID][]StaffID) (err error) {
	ctx, span := s.tel.start(ctx, "conversations.SyncAssignments", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := checkID("tenant", tenant); err != nil {
		return err
	}
	ids := make([]JobID, 0, len(jobs))
	for job, staff := range jobs {
		if err := checkID("job", job); err != nil {
			return err
		}
		if len(staff) > 0 {
			if err := checkStaffIDs(staff); err != nil {
				return err
			}
		}
		ids = append(ids, job)
	}
	slices.Sort(ids) // a fixed order keeps concurrent syncs from deadlocking
	var affected []StaffID
	err = s.store.Tx(ctx, func(tx Store) error {
		for _, job := range ids {
			if err := s.requireStaff(ctx, tx, tenant, jobs[job]...); err != nil {
				return err
			}
			before, err := tx.Assignees(ctx, tenant, job)
			if err != nil {
				return err
			}
			if err := tx.SetAssignees(ctx, tenant, job, jobs[job]); err != nil {
				return err
			}
			affected = append(append(affected, before...), jobs[job]...)
		}
		return nil
	})
	if err == nil {
		s.notifyBadges(ctx, tenant, "", affected)
	}
	return err
}

func validateAssignment(tenant TenantID, job JobID, staff []StaffID) error {
	if err := checkID("tenant", tenant); err != nil {
		return err
	}
	if err := checkID("job", job); err != nil {
		return err
	}
	return checkStaffIDs(staff)
}
