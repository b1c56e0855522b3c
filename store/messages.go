package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/fieldtalk/fieldtalk/conversations"
)

const messageCols = `m.id, m.thread_id, m.seq, m.kind, m.direction, m.channel, m.author_type, m.author_id,
  m.body, m.subject, m.media, m.job_id, m.source, m.client_id, m.from_address, m.to_address,
  m.created_at, m.status, m.sent_at, m.delivered_at, m.failed_at, m.provider_id, m.error_code, m.error_reason,
  m.details, m.urgent`

// messageRow receives message rows (messageCols). Its destinations are
// built once and serve every row of a query.
type messageRow struct {
	m                                                                  conversations.Message
	id, thread, kind, dir, authorType, author, media, job, src, status string
	dest                                                               []any
}

func newMessageRow() *messageRow {
	r := &messageRow{}
	r.dest = []any{&r.id, &r.thread, &r.m.Seq, &r.kind, &r.dir, &r.m.Channel, &r.authorType, &r.author,
		&r.m.Body, &r.m.Subject, &r.media, &r.job, &r.src, &r.m.ClientID, &r.m.From, &r.m.To,
		timeCol{&r.m.CreatedAt}, &r.status, timeCol{&r.m.SentAt}, timeCol{&r.m.DeliveredAt}, timeCol{&r.m.FailedAt},
		&r.m.ProviderID, &r.m.ErrorCode, &r.m.ErrorReason, &r.m.Details, &r.m.Urgent}
	return r
}

// message returns the row scanned last, a message of tenant.
func (r *messageRow) message(tenant conversations.TenantID) (conversations.Message, error) {
	m := r.m
	var err error
	if m.Media, err = parseMedia(r.media); err != nil {
		return conversations.Message{}, err
	}
	m.ID, m.Tenant, m.Thread = conversations.MessageID(r.id), tenant, conversations.ThreadID(r.thread)
	m.Kind, m.Direction, m.AuthorType = conversations.Kind(r.kind), conversations.Direction(r.dir), conversations.AuthorType(r.authorType)
	m.Author, m.Job, m.Source, m.Status = conversations.StaffID(r.author), conversations.JobID(r.job), conversations.Source(r.src), conversations.Status(r.status)
	return m, nil
}

// messageInsertCols are the columns a new message row sets, in
// messageInsertArgs's order; its first three are the key (tenant_id,
// thread_id, seq).
const messageInsertCols = `tenant_id, thread_id, seq, id, kind, direction, channel,
  author_type, author_id, body, subject, media, job_id, source, client_id, from_address, to_address,
  created_at, status, sent_at, delivered_at, failed_at, provider_id, error_code, error_reason, details, urgent`

const messageInsertArity = 27

// messageInsertArgs are m's values for messageInsertCols (media already encoded).
func messageInsertArgs(m conversations.Message, media string) []any {
	return []any{string(m.Tenant), string(m.Thread), m.Seq, string(m.ID), string(m.Kind), string(m.Direction), m.Channel,
		string(m.AuthorType), string(m.Author), m.Body, m.Subject, media, string(m.Job), string(m.Source),
		m.ClientID, m.From, m.To, m.CreatedAt, string(m.Status), nullTime(m.SentAt), nullTime(m.DeliveredAt),
		nullTime(m.FailedAt), m.ProviderID, m.ErrorCode, m.ErrorReason, m.Details, m.Urgent}
}

// newMessage fills what a caller may leave zero in a message to store (id,
// creation time) and puts its times in the stored form.
func (s *DB) newMessage(m conversations.Message) conversations.Message {
	if m.ID == "" {
		m.ID = conversations.NewID[conversations.MessageID]()
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = s.now()
	}
	m.CreatedAt = dbTime(m.CreatedAt)
	m.SentAt, m.DeliveredAt, m.FailedAt = zeroOrDB(m.SentAt), zeroOrDB(m.DeliveredAt), zeroOrDB(m.FailedAt)
	return m
}

// scanMessage reads one message row.
func scanMessage(sc scanner, tenant conversations.TenantID) (conversations.Message, error) {
	r := newMessageRow()
	if err := sc.Scan(r.dest...); err != nil {
		return conversations.Message{}, err
	}
	return r.message(tenant)
}

// errRaced says the insert lost a race to a duplicate committed meanwhile.
var errRaced = errors.New("store: append message: lost a race to a duplicate")

// AppendMessage stores m as its thread's next message, in one transaction:
// the duplicate check (provider id, then client id), the thread's bump (which
// assigns Seq under the thread row's lock, so concurrent appends get dense
// seqs), the insert, and the badge counters. The insert's ON CONFLICT DO
// NOTHING is the backstop for a duplicate that commits between the check and
// the insert: the transaction then rolls back and the winner is returned.
func (s *DB) AppendMessage(ctx context.Context, m conversations.Message) (conversations.Message, bool, error) {
	const op = "append message"
	switch {
	case m.Tenant == "":
		return conversations.Message{}, false, invalid(op, "message.tenant", "empty")
	case m.Thread == "":
		return conversations.Message{}, false, invalid(op, "message.thread", "empty")
	case m.Channel == "":
		return conversations.Message{}, false, invalid(op, "message.channel", "empty")
	case !m.Status.Valid():
		return conversations.Message{}, false, invalid(op, "message.status", "unknown status "+string(m.Status))
	}
	m = s.newMessage(m)
	media, err := mediaJSON(m.Media)
	if err != nil {
		return conversations.Message{}, false, err
	}

	var (
		out     conversations.Message
		created bool
	)
	err = s.atomic(ctx, func(tx *DB) error {
		if dup, ok, err := tx.duplicate(ctx, m); err != nil || ok {
			out = dup
			return err
		}
		var (
			kind     string
			archived bool
		)
		err := tx.queryRow(ctx, `UPDATE threads
SET last_seq = last_seq + 1,
    last_message_at = CASE WHEN last_message_at < ? THEN ? ELSE last_message_at END,
    preview = ?
WHERE tenant_id = ? AND id = ?
RETURNING last_seq, kind, archived`,
			m.CreatedAt, m.CreatedAt, preview(m.Body), string(m.Tenant), string(m.Thread)).Scan(&m.Seq, &kind, &archived)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(op, "thread "+string(m.Thread))
		}
		if err != nil {
			return dbErr(op, err)
		}
		// The thread's visibility rows follow the bump (and the un-archiving
		// below) under the thread row's lock, which the bump holds.
		if err := tx.bumpVisibility(ctx, m.Tenant, m.Thread, m.CreatedAt, m.Seq); err != nil {
			return dbErr(op, err)
		}
		res, err := tx.exec(ctx, `INSERT INTO messages (`+messageInsertCols+`)
VALUES (`+placeholders(messageInsertArity)+`)
ON CONFLICT DO NOTHING`, messageInsertArgs(m, media)...)
		if err != nil {
			return dbErr(op, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return dbErr(op, err)
		} else if n == 0 {
			return errRaced
		}
		switch {
		case archived:
			// A new message brings an archived thread back to the inbox,
			// and its whole history back into the badge counters.
			if _, err := tx.exec(ctx, `UPDATE threads SET archived = false WHERE tenant_id = ? AND id = ?`,
				string(m.Tenant), string(m.Thread)); err != nil {
				return dbErr(op, err)
			}
			if kind == string(conversations.ThreadCustomer) {
				if err := tx.moveCustomerCounters(ctx, m.Tenant, m.Thread, 1, m.Seq); err != nil {
					return dbErr(op, err)
				}
			}
		case kind == string(conversations.ThreadCustomer):
			if err := tx.addTenantSeq(ctx, m.Tenant, 1); err != nil {
				return dbErr(op, err)
			}
		}
		out, created = m, true
		return nil
	})
	if errors.Is(err, errRaced) {
		dup, ok, err := s.duplicate(ctx, m)
		if err != nil {
			return conversations.Message{}, false, err
		}
		if !ok {
			return conversations.Message{}, false, fmt.Errorf("store: %s: message id %s is taken: %w", op, m.ID, conversations.ErrConflict)
		}
		return dup, false, nil
	}
	if err != nil {
		return conversations.Message{}, false, err
	}
	return out, created, nil
}

// duplicate finds the message m repeats: same provider id on the channel,
// or same client id from the author.
func (s *DB) duplicate(ctx context.Context, m conversations.Message) (conversations.Message, bool, error) {
	if m.ProviderID != "" {
		got, err := s.MessageByProviderID(ctx, m.Tenant, m.Channel, m.ProviderID)
		if err == nil {
			return got, true, nil
		}
		if !errors.Is(err, conversations.ErrNotFound) {
			return conversations.Message{}, false, err
		}
	}
	if m.ClientID != "" {
		got, err := s.MessageByClientID(ctx, m.Tenant, m.Author, m.ClientID)
		if err == nil {
			return got, true, nil
		}
		if !errors.Is(err, conversations.ErrNotFound) {
			return conversations.Message{}, false, err
		}
	}
	return conversations.Message{}, false, nil
}

// GetMessage returns a message by id.
func (s *DB) GetMessage(ctx context.Context, tenant conversations.TenantID, id conversations.MessageID) (conversations.Message, error) {
	m, err := scanMessage(s.queryRow(ctx, `SELECT `+messageCols+` FROM messages m
WHERE m.tenant_id = ? AND m.id = ?`, string(tenant), string(id)), tenant)
	return m, dbErr("get message", err)
}

// MessageByProviderID finds a message by its channel and provider id.
func (s *DB) MessageByProviderID(ctx context.Context, tenant conversations.TenantID, channel, providerID string) (conversations.Message, error) {
	if providerID == "" {
		return conversations.Message{}, notFound("message by provider id", "empty provider id")
	}
	// provider_id <> '' repeats the partial index's predicate so the planner
	// may use it with a parameter (a generic plan cannot prove it otherwise).
	m, err := scanMessage(s.queryRow(ctx, `SELECT `+messageCols+` FROM messages m
WHERE m.tenant_id = ? AND m.channel = ? AND m.provider_id = ? AND m.provider_id <> ''`,
		string(tenant), channel, providerID), tenant)
	return m, dbErr("message by provider id", err)
}

// MessageByClientID finds a message by its author and client id.
func (s *DB) MessageByClientID(ctx context.Context, tenant conversations.TenantID, author conversations.StaffID, clientID string) (conversations.Message, error) {
	if clientID == "" {
		return conversations.Message{}, notFound("message by client id", "empty client id")
	}
	m, err := scanMessage(s.queryRow(ctx, `SELECT `+messageCols+` FROM messages m
WHERE m.tenant_id = ? AND m.author_id = ? AND m.client_id = ? AND m.client_id <> ''`,
		string(tenant), string(author), clientID), tenant)
	return m, dbErr("message by client id", err)
}

// History returns one page of a thread's messages, newest first, cut by seq.
// Seqs are dense from 1, so the next page starts below the last seq returned
// and there is none once seq 1 is in.
func (s *DB) History(ctx context.Context, tenant conversations.TenantID, thread conversations.ThreadID, q conversations.HistoryQuery) (conversations.HistoryPage, error) {
	const op = "history"
	limit, err := historyLimit(op, q)
	if err != nil {
		return conversations.HistoryPage{}, err
	}
	st := s.statement(historyShape{paged: q.Before > 0}, func() (string, []slot) {
		return historySQL(q.Before > 0, "", nil)
	})
	var v slotValues
	v[slotTenant] = string(tenant)
	v.setHistory(thread, q.Before, limit)
	page, err := s.historyPage(ctx, st, &v, tenant, limit)
	if err != nil {
		return conversations.HistoryPage{}, dbErr(op, err)
	}
	if len(page.Messages) == 0 {
		// An empty page is either an empty (or fully paged) thread or none
		// of this tenant's: only then is the extra lookup worth it.
		if err := s.mustThread(ctx, op, tenant, thread); err != nil {
			return conversations.HistoryPage{}, err
		}
	}
	return page, nil
}

// VisibleHistory is History for a viewer: the page comes back only when the
// scope allows the thread, and the check is part of the page's statement,
// so a page costs one statement. Only an empty page costs a second, to tell
// an empty thread (or one paged to its end) from one the scope does not
// allow, ErrForbidden, and from none of the tenant's, ErrNotFound.
func (s *DB) VisibleHistory(ctx context.Context, sc conversations.Scope, thread conversations.ThreadID, q conversations.HistoryQuery) (conversations.HistoryPage, error) {
	const op = "history"
	limit, err := historyLimit(op, q)
	if err != nil {
		return conversations.HistoryPage{}, err
	}
	shape := visibleHistoryShape{access: accessOf(sc), paged: q.Before > 0}
	st := s.statement(shape, func() (string, []slot) {
		cond, slots := allowsSQL(shape.access)
		return historySQL(shape.paged, cond, slots)
	})
	v := scopeValues(sc)
	v.setHistory(thread, q.Before, limit)
	page, err := s.historyPage(ctx, st, &v, sc.Tenant, limit)
	if err != nil {
		return conversations.HistoryPage{}, dbErr(op, err)
	}
	if len(page.Messages) > 0 {
		return page, nil
	}
	st = s.statement(allowsShape{access: shape.access}, func() (string, []slot) {
		cond, slots := allowsSQL(shape.access)
		return "SELECT CASE WHEN " + cond + " THEN 1 ELSE 0 END FROM threads x WHERE x.tenant_id = ? AND x.id = ?",
			append(slots, slotTenant, slotThread)
	})
	found, allowed := false, 0
	if err := s.read(ctx, st, &v, []any{&allowed}, func() error { found = true; return nil }); err != nil {
		return conversations.HistoryPage{}, dbErr(op, err)
	}
	switch {
	case !found:
		return conversations.HistoryPage{}, notFound(op, "thread "+string(thread))
	case allowed == 0:
		return conversations.HistoryPage{}, forbidden(op, "thread "+string(thread))
	}
	return page, nil
}

// historyLimit applies the page rules of a history query.
func historyLimit(op string, q conversations.HistoryQuery) (int, error) {
	limit, err := pageLimit(op, q.Limit)
	if err != nil {
		return 0, err
	}
	if q.Before < 0 {
		return 0, invalid(op, "before", "negative")
	}
	return limit, nil
}

// historyShape is what History's statement is built from, and
// visibleHistoryShape VisibleHistory's; allowsShape is what its check for an
// empty page is built from.
type (
	historyShape        struct{ paged bool }
	visibleHistoryShape struct {
		access conversations.Scope
		paged  bool
	}
	allowsShape struct{ access conversations.Scope }
)

// setHistory sets the slots of a history page.
func (v *slotValues) setHistory(thread conversations.ThreadID, before int64, limit int) {
	v[slotThread], v[slotLimit] = string(thread), limit
	if before > 0 {
		v[slotBefore] = before
	}
}

// historyPage reads one page of messages with st.
func (s *DB) historyPage(ctx context.Context, st shaped, v *slotValues, tenant conversations.TenantID, limit int) (conversations.HistoryPage, error) {
	page := conversations.HistoryPage{Messages: make([]conversations.Message, 0, limit)}
	row := newMessageRow()
	err := s.read(ctx, st, v, row.dest, func() error {
		m, err := row.message(tenant)
		if err != nil {
			return err
		}
		page.Messages = append(page.Messages, m)
		return nil
	})
	if err != nil {
		return conversations.HistoryPage{}, err
	}
	if n := len(page.Messages); n > 0 && page.Messages[n-1].Seq > 1 {
		page.NextBefore = page.Messages[n-1].Seq
	}
	return page, nil
}

// historySQL walks the messages' primary key backwards, from before when
// paged, on the further condition cond (with its slots) when there is one.
func historySQL(paged bool, cond string, condSlots []slot) (string, []slot) {
	query := `SELECT ` + messageCols + ` FROM messages m WHERE m.tenant_id = ? AND m.thread_id = ?`
	slots := []slot{slotTenant, slotThread}
	if paged {
		query += ` AND m.seq < ?`
		slots = append(slots, slotBefore)
	}
	if cond != "" {
		query += "\n  AND " + cond + "\n"
		slots = append(slots, condSlots...)
	}
	return query + ` ORDER BY m.seq DESC LIMIT ?`, append(slots, slotLimit)
}

// allowsSQL is Scope.Allows as SQL on the thread of the tenant and thread
// slots: the scope split as the inbox splits it (inbox.go), for one thread.
// Archived threads count: access does not depend on it. Neither subquery
// depends on the outer row, so PostgreSQL runs each once per statement.
func allowsSQL(sc conversations.Scope) (string, []slot) {
	parts := splitScope(sc, kindSet{customer: true, internal: true})
	var (
		terms []string
		slots []slot
	)
	if !parts.walk.empty() {
		terms = append(terms, "EXISTS (SELECT 1 FROM threads t WHERE t.tenant_id = ? AND t.id = ?"+parts.walk.only("t")+")")
		slots = append(slots, slotTenant, slotThread)
	}
	if parts.vis() {
		terms = append(terms, "EXISTS (SELECT 1 FROM staff_thread_visibility v\n    WHERE v.tenant_id = ? AND v.thread_id = ? AND v.staff_id = ? AND "+parts.visCond()+")")
		slots = append(slots, slotTenant, slotThread, slotStaff)
	}
	if len(terms) == 0 {
		return "1 = 0", nil
	}
	return "(" + strings.Join(terms, "\n  OR ") + ")", slots
}

// pageLimit applies the listing page-size rules.
func pageLimit(op string, limit int) (int, error) {
	switch {
	case limit == 0:
		return conversations.DefaultPageSize, nil
	case limit < 0:
		return 0, invalid(op, "limit", "negative")
	case limit > conversations.MaxPageSize:
		return 0, invalid(op, "limit", fmt.Sprintf("more than %d", conversations.MaxPageSize))
	}
	return limit, nil
}

// ApplyStatus applies a delivery report with conversations.Merge. The
// message row is locked while it is read, merged and written (FOR UPDATE on
// PostgreSQL; SQLite's immediate transaction already excludes other writers),
// so concurrent reports for one message never lose each other's changes. A
// report that changes nothing writes nothing; one that does not apply to the
// message (StatusUpdate.Check: an inbound message, another provider id)
// writes nothing and is a *conversations.StatusRefusedError.
func (s *DB) ApplyStatus(ctx context.Context, u conversations.StatusUpdate) (conversations.Message, bool, error) {
	const op = "apply status"
	switch {
	case u.Tenant == "":
		return conversations.Message{}, false, invalid(op, "update.tenant", "empty")
	case !u.Status.Valid():
		return conversations.Message{}, false, invalid(op, "update.status", "unknown status "+string(u.Status))
	case u.Message == "" && (u.ProviderID == "" || u.Channel == ""):
		return conversations.Message{}, false, invalid(op, "update.message", "neither a message id nor a channel and provider id")
	}
	if u.At.IsZero() {
		u.At = s.now()
	}
	u.At = dbTime(u.At)
	lock := ""
	if s.pg() {
		lock = " FOR UPDATE"
	}
	var (
		out     conversations.Message
		changed bool
	)
	err := s.atomic(ctx, func(tx *DB) error {
		var row scanner
		if u.Message != "" {
			row = tx.queryRow(ctx, `SELECT `+messageCols+` FROM messages m
WHERE m.tenant_id = ? AND m.id = ?`+lock, string(u.Tenant), string(u.Message))
		} else {
			row = tx.queryRow(ctx, `SELECT `+messageCols+` FROM messages m
WHERE m.tenant_id = ? AND m.channel = ? AND m.provider_id = ? AND m.provider_id <> ''`+lock,
				string(u.Tenant), u.Channel, u.ProviderID)
		}
		m, err := scanMessage(row, u.Tenant)
		if err != nil {
			return dbErr(op, err)
		}
		if err := u.Check(m); err != nil {
			return err
		}
		out, changed = conversations.Merge(m, u)
		if !changed {
			return nil
		}
		_, err = tx.exec(ctx, `UPDATE messages
SET status = ?, sent_at = ?, delivered_at = ?, failed_at = ?, provider_id = ?, error_code = ?, error_reason = ?
WHERE tenant_id = ? AND thread_id = ? AND seq = ?`,
			string(out.Status), nullTime(out.SentAt), nullTime(out.DeliveredAt), nullTime(out.FailedAt),
			out.ProviderID, out.ErrorCode, out.ErrorReason, string(out.Tenant), string(out.Thread), out.Seq)
		return dbErr(op, err)
	})
	if err != nil {
		return conversations.Message{}, false, err
	}
	return out, changed, nil
}
