package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// threadCols are the columns of a thread row, in threadRow's order; the
// caller supplies the table alias.
const threadCols = `%[1]s.id, %[1]s.kind, %[1]s.business_number, %[1]s.contact_phone, %[1]s.contact_email,
  %[1]s.contact_name, %[1]s.contact_ref, %[1]s.subject, %[1]s.created_at, %[1]s.created_by,
  %[1]s.last_message_at, %[1]s.last_seq, %[1]s.preview, %[1]s.archived`

func threadColumns(alias string) string { return fmt.Sprintf(threadCols, alias) }

type scanner interface{ Scan(dest ...any) error }

// threadRow receives thread rows: threadCols, then the extra destinations
// given. Its destinations are built once and serve every row of a query.
type threadRow struct {
	t                   conversations.Thread
	id, kind, createdBy string
	dest                []any
}

func newThreadRow(extra ...any) *threadRow {
	r := &threadRow{}
	r.dest = append(make([]any, 0, 14+len(extra)),
		&r.id, &r.kind, &r.t.BusinessNumber, &r.t.Contact.Phone, &r.t.Contact.Email,
		&r.t.Contact.Name, &r.t.Contact.Ref, &r.t.Subject, timeCol{&r.t.CreatedAt}, &r.createdBy,
		timeCol{&r.t.LastMessageAt}, &r.t.LastSeq, &r.t.Preview, &r.t.Archived)
	r.dest = append(r.dest, extra...)
	return r
}

// thread returns the row scanned last, a thread of tenant.
func (r *threadRow) thread(tenant conversations.TenantID) conversations.Thread {
	t := r.t
	t.ID, t.Tenant, t.Kind, t.CreatedBy = conversations.ThreadID(r.id), tenant, conversations.ThreadKind(r.kind), conversations.StaffID(r.createdBy)
	return t
}

// scanThread reads one thread row (plus extra destinations after it).
func scanThread(sc scanner, tenant conversations.TenantID, extra ...any) (conversations.Thread, error) {
	r := newThreadRow(extra...)
	if err := sc.Scan(r.dest...); err != nil {
		return conversations.Thread{}, err
	}
	return r.thread(tenant), nil
}

// customerAddress is the customer key of a thread: its phone, else its email.
func customerAddress(c conversations.Contact) string {
	if c.Phone != "" {
		return c.Phone
	}
	return c.Email
}

// newThread validates t for insertion and fills what the caller may leave
// zero. A new thread has no messages, whatever t says.
func (s *DB) newThread(op string, t conversations.Thread) (conversations.Thread, error) {
	if t.Tenant == "" {
		return t, invalid(op, "thread.tenant", "empty")
	}
	switch t.Kind {
	case conversations.ThreadCustomer:
		if customerAddress(t.Contact) == "" {
			return t, invalid(op, "thread.contact", "a customer thread needs a phone or an email")
		}
	case conversations.ThreadInternal:
	default:
		return t, invalid(op, "thread.kind", "unknown kind "+string(t.Kind))
	}
	for _, p := range t.Participants {
		if p == "" {
			return t, invalid(op, "thread.participants", "empty id")
		}
	}
	for _, j := range t.Jobs {
		if j == "" {
			return t, invalid(op, "thread.jobs", "empty id")
		}
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	t.CreatedAt = dbTime(t.CreatedAt)
	if t.LastMessageAt.IsZero() {
		t.LastMessageAt = t.CreatedAt
	}
	t.LastMessageAt = dbTime(t.LastMessageAt)
	t.LastSeq, t.Preview, t.Unread = 0, "", 0
	return t, nil
}

const insertThreadSQL = `INSERT INTO threads (tenant_id, id, kind, business_number, contact_address,
  contact_phone, contact_email, contact_name, contact_ref, subject, created_at, created_by,
  last_message_at, last_seq, preview, archived)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '', ?)`

func (s *DB) insertThread(ctx context.Context, t conversations.Thread, suffix string) (int64, error) {
	address := ""
	if t.Kind == conversations.ThreadCustomer {
		address = customerAddress(t.Contact)
	}
	res, err := s.exec(ctx, insertThreadSQL+suffix,
		string(t.Tenant), string(t.ID), string(t.Kind), t.BusinessNumber, address,
		t.Contact.Phone, t.Contact.Email, t.Contact.Name, t.Contact.Ref, t.Subject, t.CreatedAt,
		string(t.CreatedBy), t.LastMessageAt, t.Archived)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// CreateThread stores a new thread with its Participants and Jobs. A thread
// id or customer key that exists already is ErrConflict.
func (s *DB) CreateThread(ctx context.Context, t conversations.Thread) error {
	const op = "create thread"
	t, err := s.newThread(op, t)
	if err != nil {
		return err
	}
	if t.ID == "" {
		return invalid(op, "thread.id", "empty")
	}
	return s.atomic(ctx, func(tx *DB) error {
		if _, err := tx.insertThread(ctx, t, ""); err != nil {
			return dbErr(op, err)
		}
		return tx.attach(ctx, op, t)
	})
}

// attach adds a new thread's participants and job links.
func (s *DB) attach(ctx context.Context, op string, t conversations.Thread) error {
	for _, p := range uniqueSorted(t.Participants) {
		if err := s.addParticipant(ctx, t.Tenant, t.ID, p); err != nil {
			return dbErr(op, err)
		}
	}
	jobs := uniqueSorted(t.Jobs)
	if err := s.lockJobs(ctx, t.Tenant, jobs...); err != nil {
		return dbErr(op, err)
	}
	for _, j := range jobs {
		if err := s.linkJob(ctx, t.Tenant, t.ID, j); err != nil {
			return dbErr(op, err)
		}
	}
	return nil
}

// CustomerThread returns the customer thread for (t.Tenant, t.BusinessNumber,
// address), creating it from t when there is none. Concurrent calls for one
// key create one thread: the loser of the race finds the winner's.
func (s *DB) CustomerThread(ctx context.Context, t conversations.Thread) (conversations.Thread, bool, error) {
	const op = "customer thread"
	t.Kind = conversations.ThreadCustomer
	t, err := s.newThread(op, t)
	if err != nil {
		return conversations.Thread{}, false, err
	}
	if t.ID == "" {
		t.ID = conversations.NewID[conversations.ThreadID]()
	}
	if id, ok, err := s.customerThreadID(ctx, t); err != nil {
		return conversations.Thread{}, false, dbErr(op, err)
	} else if ok {
		got, err := s.GetThread(ctx, t.Tenant, id)
		return got, false, err
	}
	var (
		got     conversations.Thread
		created bool
	)
	err = s.atomic(ctx, func(tx *DB) error {
		n, err := tx.insertThread(ctx, t, " ON CONFLICT DO NOTHING")
		if err != nil {
			return dbErr(op, err)
		}
		id := t.ID
		if n == 1 {
			created = true
			if err := tx.attach(ctx, op, t); err != nil {
				return err
			}
		} else {
			found, ok, err := tx.customerThreadID(ctx, t)
			if err != nil {
				return dbErr(op, err)
			}
			if !ok {
				return fmt.Errorf("store: %s: thread id %s is taken: %w", op, t.ID, conversations.ErrConflict)
			}
			id = found
		}
		got, err = tx.GetThread(ctx, t.Tenant, id)
		return err
	})
	if err != nil {
		return conversations.Thread{}, false, err
	}
	return got, created, nil
}

func (s *DB) customerThreadID(ctx context.Context, t conversations.Thread) (conversations.ThreadID, bool, error) {
	var id string
	err := s.queryRow(ctx, `SELECT t.id FROM threads t
WHERE t.tenant_id = ? AND t.business_number = ? AND t.contact_address = ? AND t.kind = 'customer'`,
		string(t.Tenant), t.BusinessNumber, customerAddress(t.Contact)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return conversations.ThreadID(id), true, nil
}

// GetThread returns a thread with its Participants, Jobs and Assignees
// (each sorted), ErrNotFound when the tenant has no such thread.
func (s *DB) GetThread(ctx context.Context, tenant conversations.TenantID, id conversations.ThreadID) (conversations.Thread, error) {
	const op = "get thread"
	got, err := s.threads(ctx, op, tenant, []conversations.ThreadID{id})
	if err != nil {
		return conversations.Thread{}, err
	}
	if len(got) == 0 {
		return conversations.Thread{}, dbErr(op, sql.ErrNoRows)
	}
	return got[0], nil
}

// GetThreads returns, in the order of ids and each as GetThread returns
// it, those of ids the tenant has (conversations.ThreadsReader): two
// statements for up to maxVisibleThreads ids, as GetThread takes for one.
func (s *DB) GetThreads(ctx context.Context, tenant conversations.TenantID, ids []conversations.ThreadID) ([]conversations.Thread, error) {
	return s.threads(ctx, "get threads", tenant, ids)
}

// threads reads the threads of ids the tenant has, in the order of ids
// (each once), with their Participants, Jobs and Assignees: the rows in one
// statement, the three lists, which are short, in a second.
func (s *DB) threads(ctx context.Context, op string, tenant conversations.TenantID, ids []conversations.ThreadID) ([]conversations.Thread, error) {
	seen := make(map[conversations.ThreadID]bool, len(ids))
	var uniq []conversations.ThreadID
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	byID := make(map[conversations.ThreadID]*conversations.Thread, len(uniq))
	for chunk := range slices.Chunk(uniq, maxVisibleThreads) {
		in := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ") + ")"
		args := make([]any, 0, 1+len(chunk))
		args = append(args, string(tenant))
		for _, id := range chunk {
			args = append(args, string(id))
		}
		rows, err := s.query(ctx, `SELECT `+threadColumns("t")+` FROM threads t
WHERE t.tenant_id = ? AND t.id IN `+in, args...)
		if err != nil {
			return nil, dbErr(op, err)
		}
		for rows.Next() {
			t, err := scanThread(rows, tenant)
			if err != nil {
				rows.Close()
				return nil, dbErr(op, err)
			}
			byID[t.ID] = &t
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, dbErr(op, err)
		}
		if len(byID) == 0 {
			continue
		}
		// Each subquery names the tenant, so that Citus routes the
		// statement to one shard.
		lists := append(append(append([]any{}, args...), args...), args...)
		rows, err = s.query(ctx, `SELECT 'p', p.thread_id, p.staff_id FROM thread_participants p WHERE p.tenant_id = ? AND p.thread_id IN `+in+`
UNION ALL
SELECT 'j', j.thread_id, j.job_id FROM thread_jobs j WHERE j.tenant_id = ? AND j.thread_id IN `+in+`
UNION ALL
SELECT DISTINCT 'a', j.thread_id, a.staff_id FROM thread_jobs j
JOIN job_assignments a ON a.tenant_id = j.tenant_id AND a.job_id = j.job_id
WHERE j.tenant_id = ? AND j.thread_id IN `+in, lists...)
		if err != nil {
			return nil, dbErr(op, err)
		}
		for rows.Next() {
			var what, thread, v string
			if err := rows.Scan(&what, &thread, &v); err != nil {
				rows.Close()
				return nil, dbErr(op, err)
			}
			t := byID[conversations.ThreadID(thread)]
			if t == nil {
				continue
			}
			switch what {
			case "p":
				t.Participants = append(t.Participants, conversations.StaffID(v))
			case "j":
				t.Jobs = append(t.Jobs, conversations.JobID(v))
			case "a":
				t.Assignees = append(t.Assignees, conversations.StaffID(v))
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, dbErr(op, err)
		}
	}
	out := make([]conversations.Thread, 0, len(byID))
	for _, id := range uniq {
		if t := byID[id]; t != nil {
			slices.Sort(t.Participants)
			slices.Sort(t.Jobs)
			slices.Sort(t.Assignees)
			out = append(out, *t)
		}
	}
	return out, nil
}

// threadExists reports whether the tenant has the thread.
func (s *DB) threadExists(ctx context.Context, tenant conversations.TenantID, id conversations.ThreadID) (bool, error) {
	var one int
	err := s.queryRow(ctx, `SELECT 1 FROM threads t WHERE t.tenant_id = ? AND t.id = ?`,
		string(tenant), string(id)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func (s *DB) mustThread(ctx context.Context, op string, tenant conversations.TenantID, id conversations.ThreadID) error {
	ok, err := s.threadExists(ctx, tenant, id)
	if err != nil {
		return dbErr(op, err)
	}
	if !ok {
		return notFound(op, "thread "+string(id))
	}
	return nil
}

// SetArchived archives or un-archives a thread. Its visibility rows and the
// dispatcher badge counters move with it: archiving a customer thread takes
// its messages out of the tenant's sum and each reader's read horizon out of
// theirs.
func (s *DB) SetArchived(ctx context.Context, tenant conversations.TenantID, id conversations.ThreadID, archived bool) error {
	const op = "set archived"
	return s.atomic(ctx, func(tx *DB) error {
		var (
			kind    string
			lastSeq int64
		)
		err := tx.queryRow(ctx, `UPDATE threads SET archived = ?
WHERE tenant_id = ? AND id = ? AND archived <> ?
RETURNING kind, last_seq`, archived, string(tenant), string(id), archived).Scan(&kind, &lastSeq)
		if errors.Is(err, sql.ErrNoRows) {
			// Already in that state, or not there at all.
			return tx.mustThread(ctx, op, tenant, id)
		}
		if err != nil {
			return dbErr(op, err)
		}
		if _, err := tx.exec(ctx, archiveVisibilitySQL, archived, string(tenant), string(id)); err != nil {
			return dbErr(op, err)
		}
		if kind != string(conversations.ThreadCustomer) {
			return nil
		}
		sign := int64(1)
		if archived {
			sign = -1
		}
		return dbErr(op, tx.moveCustomerCounters(ctx, tenant, id, sign, lastSeq))
	})
}

// moveCustomerCounters adds (sign 1) or removes (sign -1) one customer
// thread's share of the badge counters: its last_seq in the tenant's sum and
// each staff member's read_seq of it in theirs. Readers are updated in
// staff order so concurrent archives lock counter rows in one order.
func (s *DB) moveCustomerCounters(ctx context.Context, tenant conversations.TenantID, id conversations.ThreadID, sign, lastSeq int64) error {
	if lastSeq > 0 {
		if err := s.addTenantSeq(ctx, tenant, sign*lastSeq); err != nil {
			return err
		}
	}
	_, err := s.exec(ctx, `INSERT INTO staff_read_counters (tenant_id, staff_id, customer_read_sum)
SELECT r.tenant_id, r.staff_id, ? * r.read_seq FROM read_marks r
WHERE r.tenant_id = ? AND r.thread_id = ? AND r.read_seq > 0
ORDER BY r.staff_id
ON CONFLICT (tenant_id, staff_id) DO UPDATE
SET customer_read_sum = staff_read_counters.customer_read_sum + excluded.customer_read_sum`,
		sign, string(tenant), string(id))
	return err
}

// counterSlots is how many rows a tenant's customer_seq_sum is spread over
// (migration 0011): concurrent messages of one business move different rows
// and so do not wait for each other's commit; the badge sums them.
const counterSlots = 16

// counterSlot draws the slot a change of the tenant's counter goes to.
func counterSlot() int { return rand.IntN(counterSlots) }

func (s *DB) addTenantSeq(ctx context.Context, tenant conversations.TenantID, delta int64) error {
	_, err := s.exec(ctx, `INSERT INTO tenant_counters (tenant_id, slot, customer_seq_sum) VALUES (?, ?, ?)
ON CONFLICT (tenant_id, slot) DO UPDATE
SET customer_seq_sum = tenant_counters.customer_seq_sum + excluded.customer_seq_sum`,
		string(tenant), counterSlot(), delta)
	return err
}

func (s *DB) addStaffRead(ctx context.Context, tenant conversations.TenantID, staff conversations.StaffID, delta int64) error {
	_, err := s.exec(ctx, `INSERT INTO staff_read_counters (tenant_id, staff_id, customer_read_sum) VALUES (?, ?, ?)
ON CONFLICT (tenant_id, staff_id) DO UPDATE
SET customer_read_sum = staff_read_counters.customer_read_sum + excluded.customer_read_sum`,
		string(tenant), string(staff), delta)
	return err
}

// AddParticipants adds staff to a thread; those already in it stay.
func (s *DB) AddParticipants(ctx context.Context, tenant conversations.TenantID, id conversations.ThreadID, staff ...conversations.StaffID) error {
	const op = "add participants"
	for _, p := range staff {
		if p == "" {
			return invalid(op, "staff", "empty id")
		}
	}
	return s.atomic(ctx, func(tx *DB) error {
		if err := tx.mustThread(ctx, op, tenant, id); err != nil {
			return err
		}
		for _, p := range uniqueSorted(staff) {
			if err := tx.addParticipant(ctx, tenant, id, p); err != nil {
				return dbErr(op, err)
			}
		}
		return nil
	})
}

// RemoveParticipant takes a staff member out of a thread (a no-op when they
// are not in it).
func (s *DB) RemoveParticipant(ctx context.Context, tenant conversations.TenantID, id conversations.ThreadID, staff conversations.StaffID) error {
	const op = "remove participant"
	return s.atomic(ctx, func(tx *DB) error {
		if err := tx.mustThread(ctx, op, tenant, id); err != nil {
			return err
		}
		return dbErr(op, tx.removeParticipant(ctx, tenant, id, staff))
	})
}

// LinkJob links a job to a thread (a no-op when linked already); the job's
// assignees see the thread from the next read on.
func (s *DB) LinkJob(ctx context.Context, tenant conversations.TenantID, id conversations.ThreadID, job conversations.JobID) error {
	const op = "link job"
	if job == "" {
		return invalid(op, "job", "empty id")
	}
	return s.atomic(ctx, func(tx *DB) error {
		if err := tx.mustThread(ctx, op, tenant, id); err != nil {
			return err
		}
		if err := tx.lockJobs(ctx, tenant, job); err != nil {
			return dbErr(op, err)
		}
		return dbErr(op, tx.linkJob(ctx, tenant, id, job))
	})
}

// UnlinkJob removes a job's link to a thread (a no-op when not linked).
func (s *DB) UnlinkJob(ctx context.Context, tenant conversations.TenantID, id conversations.ThreadID, job conversations.JobID) error {
	const op = "unlink job"
	return s.atomic(ctx, func(tx *DB) error {
		if err := tx.mustThread(ctx, op, tenant, id); err != nil {
			return err
		}
		if err := tx.lockJobs(ctx, tenant, job); err != nil {
			return dbErr(op, err)
		}
		return dbErr(op, tx.unlinkJob(ctx, tenant, id, job))
	})
}

func uniqueSorted[T ~string](in []T) []T {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}
