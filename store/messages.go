package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/fieldtalk/fieldtalk/conversations"
)

const messageCols = `m.id, m.thread_id, m.seq, m.kind, m.direction, m.channel, m.author_type, m.author_id,
  m.body, m.subject, m.media, m.job_id, m.source, m.client_id, m.from_address, m.to_address,
  m.created_at, m.status, m.sent_at, m.delivered_at, m.failed_at, m.provider_id, m.error_code, m.error_reason,
  m.details, m.urgent`

func scanMessage(sc scanner, tenant conversations.TenantID) (conversations.Message, error) {
	var (
		m                                                                  conversations.Message
		id, thread, kind, dir, authorType, author, media, job, src, status string
	)
	err := sc.Scan(&id, &thread, &m.Seq, &kind, &dir, &m.Channel, &authorType, &author,
		&m.Body, &m.Subject, &media, &job, &src, &m.ClientID, &m.From, &m.To,
		timeCol{&m.CreatedAt}, &status, timeCol{&m.SentAt}, timeCol{&m.DeliveredAt}, timeCol{&m.FailedAt},
		&m.ProviderID, &m.ErrorCode, &m.ErrorReason, &m.Details, &m.Urgent)
	if err != nil {
		return conversations.Message{}, err
	}
	if m.Media, err = parseMedia(media); err != nil {
		return conversations.Message{}, err
	}
	m.ID, m.Tenant, m.Thread = conversations.MessageID(id), tenant, conversations.ThreadID(thread)
	m.Kind, m.Direction, m.AuthorType = conversations.Kind(kind), conversations.Direction(dir), conversations.AuthorType(authorType)
	m.Author, m.Job, m.Source, m.Status = conversations.StaffID(author), conversations.JobID(job), conversations.Source(src), conversations.Status(status)
	return m, nil
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
	if m.ID == "" {
		m.ID = conversations.NewID[conversations.MessageID]()
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = s.now()
	}
	m.CreatedAt = dbTime(m.CreatedAt)
	m.SentAt, m.DeliveredAt, m.FailedAt = zeroOrDB(m.SentAt), zeroOrDB(m.DeliveredAt), zeroOrDB(m.FailedAt)
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
		res, err := tx.exec(ctx, `INSERT INTO messages (tenant_id, thread_id, seq, id, kind, direction, channel,
  author_type, author_id, body, subject, media, job_id, source, client_id, from_address, to_address,
  created_at, status, sent_at, delivered_at, failed_at, provider_id, error_code, error_reason, details, urgent)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING`,
			string(m.Tenant), string(m.Thread), m.Seq, string(m.ID), string(m.Kind), string(m.Direction), m.Channel,
			string(m.AuthorType), string(m.Author), m.Body, m.Subject, media, string(m.Job), string(m.Source),
			m.ClientID, m.From, m.To, m.CreatedAt, string(m.Status), nullTime(m.SentAt), nullTime(m.DeliveredAt),
			nullTime(m.FailedAt), m.ProviderID, m.ErrorCode, m.ErrorReason, m.Details, m.Urgent)
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
	limit, err := pageLimit(op, q.Limit)
	if err != nil {
		return conversations.HistoryPage{}, err
	}
	if q.Before < 0 {
		return conversations.HistoryPage{}, invalid(op, "before", "negative")
	}
	query, args := historySQL(tenant, thread, q.Before, limit)
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return conversations.HistoryPage{}, dbErr(op, err)
	}
	defer rows.Close()
	page := conversations.HistoryPage{Messages: make([]conversations.Message, 0, limit)}
	for rows.Next() {
		m, err := scanMessage(rows, tenant)
		if err != nil {
			return conversations.HistoryPage{}, dbErr(op, err)
		}
		page.Messages = append(page.Messages, m)
	}
	if err := rows.Err(); err != nil {
		return conversations.HistoryPage{}, dbErr(op, err)
	}
	if len(page.Messages) == 0 {
		// An empty page is either an empty (or fully paged) thread or none
		// of this tenant's: only then is the extra lookup worth it.
		if err := s.mustThread(ctx, op, tenant, thread); err != nil {
			return conversations.HistoryPage{}, err
		}
		return page, nil
	}
	if last := page.Messages[len(page.Messages)-1].Seq; last > 1 {
		page.NextBefore = last
	}
	return page, nil
}

// historySQL walks the messages' primary key backwards from before.
func historySQL(tenant conversations.TenantID, thread conversations.ThreadID, before int64, limit int) (string, []any) {
	query := `SELECT ` + messageCols + ` FROM messages m WHERE m.tenant_id = ? AND m.thread_id = ?`
	args := []any{string(tenant), string(thread)}
	if before > 0 {
		query += ` AND m.seq < ?`
		args = append(args, before)
	}
	return query + ` ORDER BY m.seq DESC LIMIT ?`, append(args, limit)
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
// report that changes nothing writes nothing.
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
		var row *sql.Row
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
