package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// The notification log: what the in-app stream (notify/inapp) replays to a
// device that reconnects. Each recipient's notifications are numbered 1, 2,
// 3, ... by notification_counters, whose row the append moves under its lock:
// one recipient's notifications therefore commit in number order, and "after
// n" is a position that never misses a notification committed later.

// notificationIDWidth is the zero-padded width of a notification id, so ids
// of one recipient sort as text in the order they were issued (a width of 16
// digits lasts a recipient a million notifications a day for 27 billion years).
const notificationIDWidth = 16

// MaxNotificationsPage bounds one NotificationsSince call.
const MaxNotificationsPage = 1000

// DefaultNotificationsPage is NotificationsSince's page when limit is 0.
const DefaultNotificationsPage = 100

func notificationID(seq int64) string { return fmt.Sprintf("%0*d", notificationIDWidth, seq) }

// parseNotificationID reads an id issued by AppendNotification; "" is the
// position before the first notification.
func parseNotificationID(id string) (int64, bool) {
	if id == "" {
		return 0, true
	}
	if len(id) > 19 {
		return 0, false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil
}

// notificationPayload is what a notification row keeps as JSON beyond its
// columns. The message is spelled out with tags of its own so that renaming
// a Go field never silently empties the rows already stored.
type notificationPayload struct {
	Message *messageJSON `json:"message,omitempty"`
	ReadSeq int64        `json:"read_seq,omitempty"`
	Badge   int64        `json:"badge"`
	Urgent  bool         `json:"urgent,omitempty"`
}

type messageJSON struct {
	ID          string                `json:"id"`
	Thread      string                `json:"thread"`
	Seq         int64                 `json:"seq"`
	Kind        string                `json:"kind"`
	Direction   string                `json:"direction"`
	Channel     string                `json:"channel"`
	AuthorType  string                `json:"author_type"`
	Author      string                `json:"author,omitempty"`
	Body        string                `json:"body,omitempty"`
	Subject     string                `json:"subject,omitempty"`
	Media       []conversations.Media `json:"media,omitempty"`
	Job         string                `json:"job,omitempty"`
	Source      string                `json:"source,omitempty"`
	ClientID    string                `json:"client_id,omitempty"`
	From        string                `json:"from,omitempty"`
	To          string                `json:"to,omitempty"`
	CreatedAt   time.Time             `json:"created_at,omitzero"`
	Status      string                `json:"status"`
	SentAt      time.Time             `json:"sent_at,omitzero"`
	DeliveredAt time.Time             `json:"delivered_at,omitzero"`
	FailedAt    time.Time             `json:"failed_at,omitzero"`
	ProviderID  string                `json:"provider_id,omitempty"`
	ErrorCode   string                `json:"error_code,omitempty"`
	ErrorReason string                `json:"error_reason,omitempty"`
}

func toMessageJSON(m conversations.Message) *messageJSON {
	return &messageJSON{
		ID: string(m.ID), Thread: string(m.Thread), Seq: m.Seq, Kind: string(m.Kind), Direction: string(m.Direction),
		Channel: m.Channel, AuthorType: string(m.AuthorType), Author: string(m.Author), Body: m.Body,
		Subject: m.Subject, Media: m.Media, Job: string(m.Job), Source: string(m.Source), ClientID: m.ClientID,
		From: m.From, To: m.To, CreatedAt: zeroOrDB(m.CreatedAt), Status: string(m.Status),
		SentAt: zeroOrDB(m.SentAt), DeliveredAt: zeroOrDB(m.DeliveredAt), FailedAt: zeroOrDB(m.FailedAt),
		ProviderID: m.ProviderID, ErrorCode: m.ErrorCode, ErrorReason: m.ErrorReason,
	}
}

func (j *messageJSON) domain(tenant conversations.TenantID) *conversations.Message {
	utc := func(t time.Time) time.Time {
		if t.IsZero() {
			return time.Time{}
		}
		return t.UTC()
	}
	return &conversations.Message{
		ID: conversations.MessageID(j.ID), Tenant: tenant, Thread: conversations.ThreadID(j.Thread), Seq: j.Seq,
		Kind: conversations.Kind(j.Kind), Direction: conversations.Direction(j.Direction), Channel: j.Channel,
		AuthorType: conversations.AuthorType(j.AuthorType), Author: conversations.StaffID(j.Author), Body: j.Body,
		Subject: j.Subject, Media: j.Media, Job: conversations.JobID(j.Job), Source: conversations.Source(j.Source),
		ClientID: j.ClientID, From: j.From, To: j.To, CreatedAt: utc(j.CreatedAt), Status: conversations.Status(j.Status),
		SentAt: utc(j.SentAt), DeliveredAt: utc(j.DeliveredAt), FailedAt: utc(j.FailedAt),
		ProviderID: j.ProviderID, ErrorCode: j.ErrorCode, ErrorReason: j.ErrorReason,
	}
}

// AppendNotification logs n for its recipient and returns it with ID set:
// the recipient's next id, a string that sorts after every id issued to that
// recipient before. A zero At means now. The notification's own ID is
// ignored.
//
// A notification with a Cause is logged once per recipient and cause: when
// the recipient already has one for n.Cause, nothing is written and that
// one's id is returned (so a repeated fan-out tells nobody twice).
func (s *DB) AppendNotification(ctx context.Context, n conversations.Notification) (conversations.Notification, error) {
	const op = "append notification"
	switch {
	case n.Tenant == "":
		return conversations.Notification{}, invalid(op, "notification.tenant", "empty")
	case n.Recipient == "":
		return conversations.Notification{}, invalid(op, "notification.recipient", "empty")
	case n.Type == "":
		return conversations.Notification{}, invalid(op, "notification.type", "empty")
	}
	if n.At.IsZero() {
		n.At = s.now()
	}
	n.At = dbTime(n.At)
	p := notificationPayload{ReadSeq: n.ReadSeq, Badge: n.Badge, Urgent: n.Urgent}
	if n.Message != nil {
		p.Message = toMessageJSON(*n.Message)
	}
	payload, err := json.Marshal(p)
	if err != nil {
		return conversations.Notification{}, fmt.Errorf("store: %s: encode: %w", op, err)
	}
	var seq int64
	if s.pg() {
		seq, err = s.appendNotificationPG(ctx, n, payload)
	} else {
		seq, err = s.appendNotificationTx(ctx, n, payload)
	}
	if err != nil {
		return conversations.Notification{}, err
	}
	n.ID = notificationID(seq)
	return n, nil
}

// appendNotificationPG appends in one statement, one round trip: the
// counter moves and the row goes in together, or, when the recipient's log
// holds n's cause already, neither. Two appends of one cause at once: the
// second waits for the first's lock on the counter row, and its row then
// clashes with the first's on notifications_cause, which undoes the whole
// statement.
func (s *DB) appendNotificationPG(ctx context.Context, n conversations.Notification, payload []byte) (int64, error) {
	const op = "append notification"
	var seq int64
	err := s.queryRow(ctx, `WITH c AS (
  INSERT INTO notification_counters (tenant_id, staff_id, last_seq)
  SELECT ?, ?, 1
   WHERE ? = '' OR NOT EXISTS (SELECT 1 FROM notifications o WHERE o.tenant_id = ? AND o.staff_id = ? AND o.cause = ?)
  ON CONFLICT (tenant_id, staff_id) DO UPDATE SET last_seq = notification_counters.last_seq + 1
  RETURNING last_seq
)
INSERT INTO notifications (tenant_id, staff_id, seq, type, thread_id, created_at, payload, cause)
SELECT ?, ?, c.last_seq, ?, ?, ?, ?, ? FROM c
RETURNING seq`,
		string(n.Tenant), string(n.Recipient), string(n.Cause), string(n.Tenant), string(n.Recipient), string(n.Cause),
		string(n.Tenant), string(n.Recipient), string(n.Type), string(n.Thread), n.At, string(payload), string(n.Cause)).Scan(&seq)
	switch {
	case err == nil:
		return seq, nil
	case errors.Is(err, sql.ErrNoRows): // the log holds the cause: nothing moved
	default:
		if err = dbErr(op, err); !errors.Is(err, conversations.ErrConflict) {
			return 0, err
		}
	}
	return s.loggedCause(ctx, n)
}

// loggedCause returns the seq of the notification the recipient's log holds
// for n's cause.
func (s *DB) loggedCause(ctx context.Context, n conversations.Notification) (int64, error) {
	var seq int64
	err := s.queryRow(ctx, `SELECT seq FROM notifications WHERE tenant_id = ? AND staff_id = ? AND cause = ?`,
		string(n.Tenant), string(n.Recipient), string(n.Cause)).Scan(&seq)
	return seq, dbErr("append notification", err)
}

// appendNotificationTx appends in a transaction (SQLite, whose one writer
// serializes appends anyway).
func (s *DB) appendNotificationTx(ctx context.Context, n conversations.Notification, payload []byte) (int64, error) {
	const op = "append notification"
	var seq int64
	err := s.atomic(ctx, func(tx *DB) error {
		// The upsert locks the recipient's counter row until commit: the
		// next append for the same recipient waits here, so numbers commit
		// in order, and a repeat of a cause sees the first one's row.
		if err := tx.queryRow(ctx, `INSERT INTO notification_counters (tenant_id, staff_id, last_seq) VALUES (?, ?, 1)
ON CONFLICT (tenant_id, staff_id) DO UPDATE SET last_seq = notification_counters.last_seq + 1
RETURNING last_seq`, string(n.Tenant), string(n.Recipient)).Scan(&seq); err != nil {
			return dbErr(op, err)
		}
		res, err := tx.exec(ctx, `INSERT INTO notifications (tenant_id, staff_id, seq, type, thread_id, created_at, payload, cause)
SELECT ?, ?, ?, ?, ?, ?, ?, ?
WHERE ? = '' OR NOT EXISTS (SELECT 1 FROM notifications o WHERE o.tenant_id = ? AND o.staff_id = ? AND o.cause = ?)`,
			string(n.Tenant), string(n.Recipient), seq, string(n.Type), string(n.Thread), n.At, string(payload), string(n.Cause),
			string(n.Cause), string(n.Tenant), string(n.Recipient), string(n.Cause))
		if err != nil {
			return dbErr(op, err)
		}
		if k, err := res.RowsAffected(); err != nil {
			return dbErr(op, err)
		} else if k == 0 {
			return errLogged // undoes the counter's move: no gap in the numbers
		}
		return nil
	})
	if errors.Is(err, errLogged) {
		return s.loggedCause(ctx, n)
	}
	return seq, err
}

// errLogged ends an append whose cause the recipient's log already holds.
var errLogged = errors.New("store: notification already logged")

// NotificationsSince returns up to limit of staff's notifications after the
// one with id afterID, oldest first ("" means from the first). limit 0 means
// DefaultNotificationsPage; it may not exceed MaxNotificationsPage.
//
// When the log can no longer continue from afterID, because what followed it
// was pruned or because afterID was never issued to this recipient, the error
// is ErrNotFound: the caller has to resynchronize another way. A malformed
// afterID is ErrInvalid.
func (s *DB) NotificationsSince(ctx context.Context, tenant conversations.TenantID, staff conversations.StaffID, afterID string, limit int) ([]conversations.Notification, error) {
	const op = "notifications since"
	switch {
	case tenant == "":
		return nil, invalid(op, "tenant", "empty")
	case staff == "":
		return nil, invalid(op, "staff", "empty")
	case limit < 0 || limit > MaxNotificationsPage:
		return nil, invalid(op, "limit", fmt.Sprintf("must be between 0 and %d", MaxNotificationsPage))
	}
	if limit == 0 {
		limit = DefaultNotificationsPage
	}
	after, ok := parseNotificationID(afterID)
	if !ok {
		return nil, invalid(op, "after_id", "not a notification id")
	}
	// One statement, so the counter and the rows come from one snapshot: a
	// notification committed between two statements would otherwise look
	// like a gap.
	rows, err := s.query(ctx, `SELECT c.last_seq, n.seq, n.type, n.thread_id, n.created_at, n.payload, n.cause
FROM notification_counters c
LEFT JOIN notifications n ON n.tenant_id = c.tenant_id AND n.staff_id = c.staff_id AND n.seq > ?
WHERE c.tenant_id = ? AND c.staff_id = ?
ORDER BY n.seq
LIMIT ?`, after, string(tenant), string(staff), limit)
	if err != nil {
		return nil, dbErr(op, err)
	}
	defer rows.Close()
	var (
		last int64
		out  []conversations.Notification
	)
	for rows.Next() {
		var (
			seq                         *int64
			typ, thread, payload, cause *string
			at                          time.Time
		)
		if err := rows.Scan(&last, &seq, &typ, &thread, timeCol{&at}, &payload, &cause); err != nil {
			return nil, dbErr(op, err)
		}
		if seq == nil { // the counter without a row after afterID
			continue
		}
		var p notificationPayload
		if err := json.Unmarshal([]byte(*payload), &p); err != nil {
			return nil, fmt.Errorf("store: %s: decode notification %d: %w", op, *seq, err)
		}
		n := conversations.Notification{
			ID: notificationID(*seq), Tenant: tenant, Recipient: staff, Type: conversations.EventType(*typ),
			Thread: conversations.ThreadID(*thread), ReadSeq: p.ReadSeq, Badge: p.Badge, Urgent: p.Urgent, At: at,
			Cause: conversations.MessageID(*cause),
		}
		if p.Message != nil {
			n.Message = p.Message.domain(tenant)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(op, err)
	}
	switch {
	case after > last:
		return nil, notFound(op, "notification "+afterID+" was never issued to this recipient")
	case len(out) == 0 && after < last,
		len(out) > 0 && out[0].ID != notificationID(after+1):
		return nil, notFound(op, "the notifications after "+afterID+" were pruned")
	}
	return out, nil
}

// LatestNotificationID returns the id of staff's newest notification or,
// before the first, the position before it (an id that sorts before every
// other). A stream that starts from it misses nothing logged afterwards.
func (s *DB) LatestNotificationID(ctx context.Context, tenant conversations.TenantID, staff conversations.StaffID) (string, error) {
	var last int64
	err := s.queryRow(ctx, `SELECT coalesce((SELECT c.last_seq FROM notification_counters c
  WHERE c.tenant_id = ? AND c.staff_id = ?), 0)`, string(tenant), string(staff)).Scan(&last)
	if err != nil {
		return "", dbErr("latest notification id", err)
	}
	return notificationID(last), nil
}

// PruneNotifications deletes the notifications logged before before, in
// every tenant, and returns how many it deleted. Ids are not reused: a stream
// asking for what followed a pruned notification gets ErrNotFound from
// NotificationsSince.
func (s *DB) PruneNotifications(ctx context.Context, before time.Time) (int64, error) {
	const op = "prune notifications"
	// One tenant at a time, so each delete walks one tenant's part of the
	// age index (and, on a tenant-sharded server, stays on one shard).
	rows, err := s.query(ctx, `SELECT DISTINCT tenant_id FROM notification_counters`)
	if err != nil {
		return 0, dbErr(op, err)
	}
	var tenants []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return 0, dbErr(op, err)
		}
		tenants = append(tenants, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, dbErr(op, err)
	}
	before = dbTime(before)
	var total int64
	for _, t := range tenants {
		res, err := s.exec(ctx, `DELETE FROM notifications WHERE tenant_id = ? AND created_at < ?`, t, before)
		if err != nil {
			return total, dbErr(op, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, dbErr(op, err)
		}
		total += n
	}
	return total, nil
}
