package store

import (
	"context"
	"errors"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/pgexec"
)

// AppendInbound files m, a customer's inbound message, in the customer
// thread t names: CustomerThread then AppendMessage, as one atomic step.
//
// On PostgreSQL the common case — a known customer of a provisioned number
// writing into a thread that is not archived — is one round trip: a
// statement that checks the number, looks for a repeat of the provider id,
// bumps the thread (which gives the message its seq under the thread row's
// lock), inserts the message and moves the tenant's counter, pipelined with
// the update of the thread's visibility rows. A round trip is most of what an inbound
// message costs, and the general path takes a dozen. Everything else (a new
// customer, an archived thread, a repeat, a duplicate racing in, SQLite)
// takes the general path in a transaction, which is also what the fast
// statement must agree with.
//
// With t.Tenant (and m.Tenant) empty, the tenant is the one the number is
// provisioned to, found in the same statement: a webhook that knows only
// the number needs no look-up of its own first.
func (s *DB) AppendInbound(ctx context.Context, t conversations.Thread, m conversations.Message) (conversations.Thread, conversations.Message, bool, error) {
	return s.appendInbound(ctx, "append inbound", t, m, false)
}

// AppendInboundOwed is AppendInbound that also marks a new message's
// fan-out owed (conversations.FanOutStore), in the same statement on
// PostgreSQL's fast path, else in the same transaction.
func (s *DB) AppendInboundOwed(ctx context.Context, t conversations.Thread, m conversations.Message) (conversations.Thread, conversations.Message, bool, error) {
	return s.appendInbound(ctx, "append inbound", t, m, true)
}

func (s *DB) appendInbound(ctx context.Context, op string, t conversations.Thread, m conversations.Message, owe bool) (conversations.Thread, conversations.Message, bool, error) {
	if err := validInbound(op, t, m); err != nil {
		return conversations.Thread{}, conversations.Message{}, false, err
	}
	m = s.newMessage(m)
	// The fast statement finds the tenant inside itself, which Citus cannot
	// route: a distributed store takes the general path, whose statements
	// each name the tenant (found first, in the replicated number table).
	if s.pg() && !s.cfg.distributed.Load() {
		th, out, created, done, err := s.inboundFast(ctx, op, t, m, owe)
		if done || err != nil {
			return th, out, created, err
		}
	}
	var (
		th      conversations.Thread
		out     conversations.Message
		created bool
	)
	err := s.atomic(ctx, func(tx *DB) error {
		tenant, err := tx.numberTenant(ctx, op, t.Tenant, t.BusinessNumber)
		if err != nil {
			return err
		}
		t.Tenant, m.Tenant = tenant, tenant
		got, _, err := tx.CustomerThread(ctx, t)
		if err != nil {
			return err
		}
		m.Thread = got.ID
		if out, created, err = tx.AppendMessage(ctx, m); err != nil {
			return err
		}
		if created && owe {
			if err := tx.OweFanOut(ctx, out.Tenant, out.ID, out.CreatedAt); err != nil {
				return err
			}
		}
		th, err = tx.loadThreadRow(ctx, op, t.Tenant, got.ID)
		return err
	})
	if err != nil {
		return conversations.Thread{}, conversations.Message{}, false, err
	}
	return th, out, created, nil
}

func validInbound(op string, t conversations.Thread, m conversations.Message) error {
	switch {
	case t.Kind != "" && t.Kind != conversations.ThreadCustomer:
		return invalid(op, "thread.kind", "inbound messages go to customer threads")
	case t.BusinessNumber == "":
		return invalid(op, "thread.business_number", "empty")
	case customerAddress(t.Contact) == "":
		return invalid(op, "thread.contact", "neither a phone nor an email")
	case m.Tenant != t.Tenant:
		return invalid(op, "message.tenant", "not the thread's tenant")
	case m.Direction != conversations.DirectionInbound:
		return invalid(op, "message.direction", "not inbound")
	case m.ProviderID == "":
		return invalid(op, "message.provider_id", "empty: it is what makes a repeat harmless")
	case m.Channel == "":
		return invalid(op, "message.channel", "empty")
	case !m.Status.Valid():
		return invalid(op, "message.status", "unknown status "+string(m.Status))
	}
	return nil
}

// numberTenant returns the tenant number is provisioned to: ErrNotFound
// when it is nobody's, or not tenant's when tenant is given.
func (s *DB) numberTenant(ctx context.Context, op string, tenant conversations.TenantID, number string) (conversations.TenantID, error) {
	owner, err := s.NumberOwner(ctx, number)
	switch {
	case errors.Is(err, conversations.ErrNotFound) || err == nil && tenant != "" && owner.Tenant != tenant:
		return "", notFound(op, "business number "+number+" is not provisioned to the tenant")
	case err != nil:
		return "", err
	}
	return owner.Tenant, nil
}

// loadThreadRow reads a thread's own row, without participants, jobs or assignees.
func (s *DB) loadThreadRow(ctx context.Context, op string, tenant conversations.TenantID, id conversations.ThreadID) (conversations.Thread, error) {
	t, err := scanThread(s.queryRow(ctx, `SELECT `+threadColumns("t")+` FROM threads t
WHERE t.tenant_id = ? AND t.id = ?`, string(tenant), string(id)), tenant)
	if err != nil {
		return conversations.Thread{}, dbErr(op, err)
	}
	return t, nil
}

// inboundSQL is the fast path's statement. n finds the tenant the number
// is provisioned to (the given one, or any when none is given), d finds a repeat of the provider id, u bumps a live customer
// thread when both allow it, c moves one slot of the tenant's counter and i inserts the
// message, and o marks its fan-out owed when asked (AppendInboundOwed), all
// under one snapshot; the last SELECT reports which case it was.
// A duplicate committed after the snapshot makes the insert fail on the
// provider index, which undoes the whole statement.
var inboundSQL = `WITH n AS (
  SELECT b.tenant_id FROM business_numbers b WHERE b.number = ? AND (b.tenant_id = ? OR ? = '')
), d AS (
  SELECT m.id FROM messages m
  WHERE m.tenant_id = (SELECT n.tenant_id FROM n) AND m.channel = ? AND m.provider_id = ? AND m.provider_id <> ''
), u AS (
  UPDATE threads
  SET last_seq = last_seq + 1, last_message_at = greatest(last_message_at, ?), preview = ?
  WHERE tenant_id = (SELECT n.tenant_id FROM n) AND business_number = ? AND contact_address = ?
    AND kind = 'customer' AND NOT archived AND NOT EXISTS (SELECT 1 FROM d)
  RETURNING ` + threadColumns("threads") + `
), c AS (
  INSERT INTO tenant_counters (tenant_id, slot, customer_seq_sum) SELECT n.tenant_id, ?, 1 FROM n, u
  ON CONFLICT (tenant_id, slot) DO UPDATE SET customer_seq_sum = tenant_counters.customer_seq_sum + 1
), i AS (
  INSERT INTO messages (` + messageInsertCols + `)
  SELECT n.tenant_id, u.id, u.last_seq, ` + placeholders(messageInsertArity-3) + ` FROM n, u
), o AS (
  INSERT INTO fanout_owed (tenant_id, message_id, created_at) SELECT n.tenant_id, ?, ? FROM n, u WHERE ?
)
SELECT coalesce((SELECT n.tenant_id FROM n), ''), coalesce((SELECT d.id FROM d LIMIT 1), ''), u.*
FROM (SELECT 1) one LEFT JOIN u ON true`

// inboundVisibilitySQL follows inboundSQL in the same transaction: when
// the message went in, the thread's visibility rows take the thread's new
// sort key and seq (what bumpVisibilitySQL does on the general path). It is
// a statement of its own, not a part of inboundSQL, for its snapshot: a
// visibility row inserted by a transaction that held the thread row's lock
// while inboundSQL waited for it (see visibility.go) is invisible to
// inboundSQL's snapshot but not to this one, which runs under the lock
// inboundSQL took. The tenant is the number's, as inboundSQL found it.
// Arguments: number, number, message id.
const inboundVisibilitySQL = `UPDATE staff_thread_visibility v
SET last_message_at = t.last_message_at, last_seq = t.last_seq, archived = t.archived
FROM threads t
WHERE t.tenant_id = (SELECT b.tenant_id FROM business_numbers b WHERE b.number = ?)
  AND t.id = (SELECT m.thread_id FROM messages m
              WHERE m.tenant_id = (SELECT b.tenant_id FROM business_numbers b WHERE b.number = ?) AND m.id = ?)
  AND v.tenant_id = t.tenant_id AND v.thread_id = t.id`

var (
	inboundPG           = numbered(inboundSQL)
	inboundVisibilityPG = numbered(inboundVisibilitySQL)
)

// inboundFast runs inboundSQL. done is false when the general path must
// decide: no live thread for the customer yet, or a duplicate raced in.
func (s *DB) inboundFast(ctx context.Context, op string, t conversations.Thread, m conversations.Message, owe bool) (th conversations.Thread, out conversations.Message, created, done bool, err error) {
	media, err := mediaJSON(m.Media)
	if err != nil {
		return th, out, false, false, err
	}
	tenant, addr := string(t.Tenant), customerAddress(t.Contact)
	args := []any{t.BusinessNumber, tenant, tenant, m.Channel, m.ProviderID,
		m.CreatedAt, preview(m.Body), t.BusinessNumber, addr, counterSlot()}
	args = append(args, messageInsertArgs(m, media)[3:]...)
	args = append(args, string(m.ID), m.CreatedAt, owe)
	var (
		owner                                                                             string
		dupID                                                                             string
		id, kind, createdBy, contactPhone, contactEmail, name, ref, subject, number, prev *string
		lastSeq                                                                           *int64
		archived                                                                          *bool
		updated                                                                           conversations.Thread
	)
	dest := []any{&owner, &dupID, &id, &kind, &number, &contactPhone, &contactEmail, &name, &ref, &subject,
		timeCol{&updated.CreatedAt}, &createdBy, timeCol{&updated.LastMessageAt}, &lastSeq, &prev, &archived}
	visArgs := []any{t.BusinessNumber, t.BusinessNumber, string(m.ID)}
	if s.tx == nil {
		// One round trip, in one implicit transaction.
		err = s.pipeline(ctx, op, pgexec.Statement{SQL: inboundPG, Args: args, Dest: dest},
			pgexec.Statement{SQL: inboundVisibilityPG, Args: visArgs})
	} else {
		// A savepoint, so a failure leaves the caller's transaction usable.
		err = s.atomic(ctx, func(tx *DB) error {
			if err := tx.queryRow(ctx, inboundSQL, args...).Scan(dest...); err != nil {
				return err
			}
			_, err := tx.exec(ctx, inboundVisibilitySQL, visArgs...)
			return err
		})
	}
	found := conversations.TenantID(owner)
	if err == nil && id != nil {
		updated.ID, updated.Tenant, updated.Kind = conversations.ThreadID(*id), found, conversations.ThreadKind(*kind)
		updated.BusinessNumber, updated.Contact = *number, conversations.Contact{Phone: *contactPhone, Email: *contactEmail, Name: *name, Ref: *ref}
		updated.Subject, updated.CreatedBy, updated.LastSeq, updated.Preview, updated.Archived = *subject, conversations.StaffID(*createdBy), *lastSeq, *prev, *archived
	}
	switch {
	case isUniqueViolation(err):
		return th, out, false, false, nil // a repeat committed meanwhile: the general path finds it
	case err != nil:
		return th, out, false, false, dbErr(op, err)
	case found == "":
		return th, out, false, false, notFound(op, "business number "+t.BusinessNumber+" is not provisioned to the tenant")
	case dupID != "":
		if out, err = s.GetMessage(ctx, found, conversations.MessageID(dupID)); err != nil {
			return th, out, false, false, err
		}
		th, err = s.loadThreadRow(ctx, op, found, out.Thread)
		return th, out, false, true, err
	case id == nil:
		return th, out, false, false, nil // no live thread for this customer: the general path creates or revives it
	}
	m.Tenant, m.Thread, m.Seq = found, updated.ID, updated.LastSeq
	return updated, m, true, true, nil
}

// placeholders is n comma-separated ? placeholders.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	b := make([]byte, 0, 3*n)
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '?')
	}
	return string(b)
}
