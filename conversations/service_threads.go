package conversations

import (
	"context"
	"errors"
	"slices"

	"go.opentelemetry.io/otel/trace"
)

// Inbox lists one page of the threads v may see, newest activity first, with
// v's unread count and the last message's preview on each row.
func (s *App) Inbox(ctx context.Context, v Viewer, q InboxQuery) (InboxPage, error) {
	ctx, span := s.tel.start(ctx, "conversations.Inbox", trace.SpanKindInternal)
	defer span.End()
	if err := v.Validate(); err != nil {
		return InboxPage{}, err
	}
	if err := validatePage(q.Limit); err != nil {
		return InboxPage{}, err
	}
	if !q.Filter.Valid() {
		return InboxPage{}, Invalid("filter", "unknown filter "+string(q.Filter))
	}
	return s.store.Inbox(ctx, s.policy.Scope(v), q)
}

func validatePage(limit int) error {
	if limit < 0 || limit > MaxPageSize {
		return Invalid("limit", "must be between 0 and 200")
	}
	return nil
}

// Thread returns one thread v may see, with its participants, linked jobs,
// assignees and v's unread count.
func (s *App) Thread(ctx context.Context, v Viewer, id ThreadID) (Thread, error) {
	ctx, span := s.tel.start(ctx, "conversations.Thread", trace.SpanKindInternal)
	defer span.End()
	t, err := s.visibleThread(ctx, s.store, v, id)
	if err != nil {
		return Thread{}, err
	}
	read, err := s.store.ReadHorizon(ctx, v.Tenant, v.Staff, id)
	if err != nil {
		return Thread{}, err
	}
	t.Unread = max(t.LastSeq-read, 0)
	return t, nil
}

// History returns one page of a thread's messages, newest first. Pages are
// cut by sequence number, so they stay stable while new messages arrive.
func (s *App) History(ctx context.Context, v Viewer, id ThreadID, q HistoryQuery) (HistoryPage, error) {
	ctx, span := s.tel.start(ctx, "conversations.History", trace.SpanKindInternal)
	defer span.End()
	if err := validatePage(q.Limit); err != nil {
		return HistoryPage{}, err
	}
	if q.Before < 0 {
		return HistoryPage{}, Invalid("before", "negative")
	}
	if err := threadRef(v, id); err != nil {
		return HistoryPage{}, err
	}
	// One statement for the check and the page, where visibleThread and
	// History would take three.
	page, err := s.fast.VisibleHistory(ctx, s.policy.Scope(v), id, q)
	if errors.Is(err, ErrForbidden) {
		return HistoryPage{}, errForbidden("thread")
	}
	return page, err
}

// StartInternal is the input of StartInternal.
type StartInternal struct {
	Participants []StaffID // other staff of the viewer's business; the viewer is added
	Subject      string    // optional title
	Job          JobID     // optional job the thread is about
}

// MaxSubjectRunes bounds an internal thread's subject.
const MaxSubjectRunes = 200

// StartInternal starts an internal thread among staff of v's business.
func (s *App) StartInternal(ctx context.Context, v Viewer, in StartInternal) (_ Thread, err error) {
	ctx, span := s.tel.start(ctx, "conversations.StartInternal", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := v.Validate(); err != nil {
		return Thread{}, err
	}
	if err := in.check(); err != nil {
		return Thread{}, err
	}
	members := []StaffID{v.Staff}
	for _, p := range in.Participants {
		if p == "" {
			return Thread{}, Invalid("participants", "empty staff id")
		}
		if !slices.Contains(members, p) {
			members = append(members, p)
		}
	}
	if len(members) < 2 {
		return Thread{}, Invalid("participants", "an internal thread needs at least one other staff member")
	}
	slices.Sort(members)
	now := s.now()
	t := Thread{
		ID: NewID[ThreadID](), Tenant: v.Tenant, Kind: ThreadInternal, Subject: in.Subject,
		CreatedAt: now, CreatedBy: v.Staff, LastMessageAt: now, Participants: members,
	}
	if in.Job != "" {
		t.Jobs = []JobID{in.Job}
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		if err := s.requireStaff(ctx, tx, v.Tenant, members...); err != nil {
			return err
		}
		if in.Job != "" {
			if err := s.mayLinkJob(ctx, tx, v, in.Job); err != nil {
				return err
			}
		}
		return tx.CreateThread(ctx, t)
	})
	if err != nil {
		return Thread{}, err
	}
	return s.store.GetThread(ctx, v.Tenant, t.ID)
}

// requireStaff checks that every id is staff of tenant.
func (s *core) requireStaff(ctx context.Context, st Store, tenant TenantID, ids ...StaffID) error {
	for _, id := range ids {
		if _, err := st.GetStaff(ctx, tenant, id); err != nil {
			if isNotFound(err) {
				return Invalid("staff", "no staff member "+string(id)+" in this business")
			}
			return err
		}
	}
	return nil
}

// AddParticipants adds staff of v's business to a thread v may see. Each
// is told their new badge.
func (s *App) AddParticipants(ctx context.Context, v Viewer, id ThreadID, staff ...StaffID) (err error) {
	ctx, span := s.tel.start(ctx, "conversations.AddParticipants", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := checkStaffIDs(staff); err != nil {
		return err
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		if _, err := s.visibleThread(ctx, tx, v, id); err != nil {
			return err
		}
		if err := s.requireStaff(ctx, tx, v.Tenant, staff...); err != nil {
			return err
		}
		return tx.AddParticipants(ctx, v.Tenant, id, staff...)
	})
	if err == nil {
		s.notifyBadges(ctx, v.Tenant, "", staff)
	}
	return err
}

// RemoveParticipant removes a staff member from a thread v may see. An
// internal thread keeps at least one participant. The one removed is told
// their new badge (and their devices stop hearing of the thread at once:
// see ThreadAccess).
func (s *App) RemoveParticipant(ctx context.Context, v Viewer, id ThreadID, staff StaffID) (err error) {
	ctx, span := s.tel.start(ctx, "conversations.RemoveParticipant", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := checkID("staff", staff); err != nil {
		return err
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		t, err := s.visibleThread(ctx, tx, v, id)
		if err != nil {
			return err
		}
		if !t.HasParticipant(staff) {
			return Invalid("staff", "not a participant")
		}
		if t.Kind == ThreadInternal && len(t.Participants) == 1 {
			return Invalid("staff", "an internal thread keeps at least one participant")
		}
		return tx.RemoveParticipant(ctx, v.Tenant, id, staff)
	})
	if err == nil {
		s.notifyBadges(ctx, v.Tenant, "", []StaffID{staff})
	}
	return err
}

// LinkJob links a job to a thread v may see: the job's assignees then see
// the thread (customer threads), and suggestions use the job's context.
// Linking a job twice is harmless. v needs the access JobThread needs (see
// mayLinkJob): linking shows the thread to the job's assignees and the
// job's assignees to the thread, so nobody links a job they could not open.
func (s *App) LinkJob(ctx context.Context, v Viewer, id ThreadID, job JobID) (err error) {
	ctx, span := s.tel.start(ctx, "conversations.LinkJob", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	return s.setJobLink(ctx, v, id, job, true)
}

// UnlinkJob removes a job from a thread v may see.
func (s *App) UnlinkJob(ctx context.Context, v Viewer, id ThreadID, job JobID) (err error) {
	ctx, span := s.tel.start(ctx, "conversations.UnlinkJob", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	return s.setJobLink(ctx, v, id, job, false)
}

// setJobLink links or unlinks job; the job's assignees, who gain or lose
// the thread, are told their new badge.
func (s *core) setJobLink(ctx context.Context, v Viewer, id ThreadID, job JobID, linked bool) error {
	if err := checkID("job", job); err != nil {
		return err
	}
	var assignees []StaffID
	err := s.store.Tx(ctx, func(tx Store) error {
		t, err := s.visibleThread(ctx, tx, v, id)
		if err != nil {
			return err
		}
		if slices.Contains(t.Jobs, job) == linked {
			return nil
		}
		if linked {
			if err := s.mayLinkJob(ctx, tx, v, job); err != nil {
				return err
			}
			err = tx.LinkJob(ctx, v.Tenant, id, job)
		} else {
			err = tx.UnlinkJob(ctx, v.Tenant, id, job)
		}
		if err != nil {
			return err
		}
		assignees, err = tx.Assignees(ctx, v.Tenant, job)
		return err
	})
	if err == nil {
		s.notifyBadges(ctx, v.Tenant, "", assignees)
	}
	return err
}

// Archive hides a thread from inboxes and badges. Its messages are kept; a
// new message brings it back.
func (s *App) Archive(ctx context.Context, v Viewer, id ThreadID) (err error) {
	ctx, span := s.tel.start(ctx, "conversations.Archive", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	return s.setArchived(ctx, v, id, true)
}

// Unarchive brings an archived thread back.
func (s *App) Unarchive(ctx context.Context, v Viewer, id ThreadID) (err error) {
	ctx, span := s.tel.start(ctx, "conversations.Unarchive", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	return s.setArchived(ctx, v, id, false)
}

func (s *core) setArchived(ctx context.Context, v Viewer, id ThreadID, archived bool) error {
	var (
		t       Thread
		changed bool
	)
	err := s.store.Tx(ctx, func(tx Store) error {
		var err error
		if t, err = s.visibleThread(ctx, tx, v, id); err != nil || t.Archived == archived {
			return err
		}
		changed = true
		return tx.SetArchived(ctx, v.Tenant, id, archived)
	})
	if err != nil || !changed || s.notifier == nil {
		return err
	}
	// Everyone who sees the thread has a different badge now.
	ids, err := s.viewersOf(ctx, t)
	if err != nil {
		s.log.ErrorContext(ctx, "conversations: notify: viewers", "thread", id, "err", err)
		return nil
	}
	s.notifyBadges(ctx, v.Tenant, id, ids)
	return nil
}

// JobThread finds or starts the customer thread with a job's contact, so a
// technician assigned to the job (or a dispatcher) can text the customer. The
// contact comes from Config.Jobs; the thread uses the business's default SMS
// number and is linked to the job.
func (s *App) JobThread(ctx context.Context, v Viewer, job JobID) (_ Thread, err error) {
	ctx, span := s.tel.start(ctx, "conversations.JobThread", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := v.Validate(); err != nil {
		return Thread{}, err
	}
	if err := checkID("job", job); err != nil {
		return Thread{}, err
	}
	if s.jobs == nil {
		return Thread{}, Invalid("config.jobs", "the Service has no Jobs source")
	}
	jc, err := s.jobs.Job(ctx, v.Tenant, job)
	if err != nil {
		return Thread{}, err
	}
	if !ValidE164(jc.Customer.Phone) {
		return Thread{}, Invalid("job.customer.phone", "the job's customer has no valid mobile number")
	}
	var id ThreadID
	err = s.store.Tx(ctx, func(tx Store) error {
		if err := s.mayWorkOnJob(ctx, tx, v, job); err != nil {
			return err
		}
		num, err := s.defaultNumber(ctx, tx, v.Tenant, ChannelSMS)
		if err != nil {
			return err
		}
		now := s.now()
		t, _, err := tx.CustomerThread(ctx, Thread{
			ID: NewID[ThreadID](), Tenant: v.Tenant, Kind: ThreadCustomer, BusinessNumber: num.Number,
			Contact: jc.Customer, CreatedAt: now, CreatedBy: v.Staff, LastMessageAt: now,
		})
		if err != nil {
			return err
		}
		id = t.ID
		if t, err = tx.GetThread(ctx, v.Tenant, id); err != nil {
			return err
		}
		if slices.Contains(t.Jobs, job) {
			return nil
		}
		return tx.LinkJob(ctx, v.Tenant, t.ID, job)
	})
	if err != nil {
		return Thread{}, err
	}
	return s.Thread(ctx, v, id)
}

// mayLinkJob checks that v may link job to a thread (StartInternal with a
// job, LinkJob): the job must be one the host's Jobs knows (ErrNotFound
// otherwise; a Service without Jobs knows jobs only by their assignments)
// and v must have the access JobThread needs (mayWorkOnJob).
func (s *core) mayLinkJob(ctx context.Context, st Store, v Viewer, job JobID) error {
	if s.jobs != nil {
		if _, err := s.jobs.Job(ctx, v.Tenant, job); err != nil {
			return err
		}
	}
	return s.mayWorkOnJob(ctx, st, v, job)
}

// mayWorkOnJob checks that v may act on a job of their business: staff who
// see every customer thread (dispatchers, admins) may act on any job,
// others only on the jobs they are assigned to (ErrForbidden).
func (s *core) mayWorkOnJob(ctx context.Context, st Store, v Viewer, job JobID) error {
	if s.policy.Scope(v).AllCustomer {
		return nil
	}
	assignees, err := st.Assignees(ctx, v.Tenant, job)
	if err != nil {
		return err
	}
	if !slices.Contains(assignees, v.Staff) {
		return errForbidden("job")
	}
	return nil
}
