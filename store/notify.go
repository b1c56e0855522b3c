package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
	out, err := s.appendNotifications(ctx, "append notification", []conversations.Notification{n})
	if err != nil {
		return conversations.Notification{}, err
	}
	return out[0], nil
}

// AppendNotifications logs each of ns as AppendNotification does and returns
// them, in order, with their ids set: on PostgreSQL in one statement per
// business (the fan-out of a new message is one), on SQLite in one
// transaction. They are checked first: one that is not valid logs none.
// Two of ns with the same recipient and Cause are one notification: both
// come back with its id.
func (s *DB) AppendNotifications(ctx context.Context, ns []conversations.Notification) ([]conversations.Notification, error) {
	return s.appendNotifications(ctx, "append notifications", ns)
}

// pendingNote is a notification on its way into the log: its payload
// encoded, and the seq it was given once logged.
type pendingNote struct {
	n       conversations.Notification
	payload string
	seq     int64
}

func (s *DB) appendNotifications(ctx context.Context, op string, ns []conversations.Notification) ([]conversations.Notification, error) {
	notes := make([]pendingNote, len(ns))
	for i, n := range ns {
		if err := n.Check(); err != nil {
			if len(ns) > 1 {
				return nil, fmt.Errorf("store: %s: notifications[%d]: %w", op, i, err)
			}
			return nil, fmt.Errorf("store: %s: %w", op, err)
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
			return nil, fmt.Errorf("store: %s: encode: %w", op, err)
		}
		notes[i] = pendingNote{n: n, payload: string(payload)}
	}
	// One business at a time: on Citus a business's rows live on one
	// shard, and a statement about one business is routed to it.
	byTenant := map[conversations.TenantID][]*pendingNote{}
	var tenants []conversations.TenantID
	for i := range notes {
		t := notes[i].n.Tenant
		if _, ok := byTenant[t]; !ok {
			tenants = append(tenants, t)
		}
		byTenant[t] = append(byTenant[t], &notes[i])
	}
	for _, t := range tenants {
		var err error
		if s.pg() {
			err = s.appendNotificationsPG(ctx, op, t, byTenant[t])
		} else {
			err = s.atomic(ctx, func(tx *DB) error { return tx.appendNotificationsTx(ctx, op, byTenant[t]) })
		}
		if err != nil {
			return nil, err
		}
	}
	out := make([]conversations.Notification, len(notes))
	for i, p := range notes {
		out[i] = p.n
		out[i].ID = notificationID(p.seq)
	}
	return out, nil
}

// Every lookup by cause also says cause <> '', the condition of the
// partial index notifications_cause: without it a generic plan cannot use
// that index and reads all of the recipient's notifications instead (1.9
// against 0.18 ms for a recipient with 600 of them, EXPLAIN ANALYZE).

// appendNotificationsPG appends one business's notifications in one
// statement, one round trip: each recipient's counter moves by the number
// of their notifications not yet logged, and those rows go in numbered in
// order, or, when a recipient's log holds a notification's cause already,
// that one is left out. The counters are locked in recipient order, so two
// appends never wait on each other in a cycle. Two appends of one cause at
// once: the second waits for the first's lock on the counter row, and its
// row then clashes with the first's on notifications_cause, which undoes
// the whole statement; it runs again and finds the cause logged.
func (s *DB) appendNotificationsPG(ctx context.Context, op string, tenant conversations.TenantID, notes []*pendingNote) error {
	// A recipient's repeats of one cause are one notification.
	type key struct {
		staff conversations.StaffID
		cause conversations.MessageID
	}
	first := map[key]*pendingNote{}
	var uniq []*pendingNote
	for _, p := range notes {
		if p.n.Cause != "" {
			k := key{p.n.Recipient, p.n.Cause}
			if _, ok := first[k]; ok {
				continue
			}
			first[k] = p
		}
		uniq = append(uniq, p)
	}
	staff, types, threads, payloads, causes := make([]string, len(uniq)), make([]string, len(uniq)), make([]string, len(uniq)), make([]string, len(uniq)), make([]string, len(uniq))
	ats := make([]time.Time, len(uniq))
	for i, p := range uniq {
		staff[i], types[i], threads[i], payloads[i], causes[i] = string(p.n.Recipient), string(p.n.Type), string(p.n.Thread), p.payload, string(p.n.Cause)
		ats[i] = p.n.At
	}
	const stmt = `WITH i AS (
  SELECT i.staff_id COLLATE "C" AS staff_id, i.type, i.thread_id COLLATE "C" AS thread_id, i.created_at, i.payload,
         i.cause COLLATE "C" AS cause, i.ord
    FROM unnest(?::text[], ?::text[], ?::text[], ?::timestamptz[], ?::text[], ?::text[])
         WITH ORDINALITY AS i(staff_id, type, thread_id, created_at, payload, cause, ord)
), f AS (
  SELECT i.* FROM i
   WHERE i.cause = '' OR NOT EXISTS (SELECT 1 FROM notifications o
                                      WHERE o.tenant_id = ? AND o.staff_id = i.staff_id AND o.cause = i.cause AND o.cause <> '')
), k AS (
  SELECT f.staff_id, count(*) AS n FROM f GROUP BY f.staff_id
), c AS (
  INSERT INTO notification_counters AS nc (tenant_id, staff_id, last_seq)
  SELECT ?, k.staff_id, k.n FROM k ORDER BY k.staff_id
  ON CONFLICT (tenant_id, staff_id) DO UPDATE SET last_seq = nc.last_seq + excluded.last_seq
  RETURNING nc.staff_id, nc.last_seq
)
INSERT INTO notifications (tenant_id, staff_id, seq, type, thread_id, created_at, payload, cause)
SELECT ?, f.staff_id, c.last_seq - k.n + row_number() OVER (PARTITION BY f.staff_id ORDER BY f.ord),
       f.type, f.thread_id, f.created_at, f.payload, f.cause
  FROM f JOIN k ON k.staff_id = f.staff_id JOIN c ON c.staff_id = f.staff_id
RETURNING staff_id, seq, cause`
	for attempt := 0; ; attempt++ {
		byCause := map[key]int64{}                   // the rows with a cause logged now
		plain := map[conversations.StaffID][]int64{} // the seqs of those without, ascending
		err := func() error {
			rows, err := s.query(ctx, stmt, staff, types, threads, ats, payloads, causes, string(tenant), string(tenant), string(tenant))
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var (
					who, cause string
					seq        int64
				)
				if err := rows.Scan(&who, &seq, &cause); err != nil {
					return err
				}
				if cause != "" {
					byCause[key{conversations.StaffID(who), conversations.MessageID(cause)}] = seq
				} else {
					plain[conversations.StaffID(who)] = append(plain[conversations.StaffID(who)], seq)
				}
			}
			return rows.Err()
		}()
		if err != nil {
			if err = dbErr(op, err); errors.Is(err, conversations.ErrConflict) && attempt < 3 {
				continue // a concurrent append logged one of the causes first: run again
			}
			return err
		}
		// A recipient's new rows were numbered in the order given, so those
		// without a cause take that recipient's seqs in order.
		for _, seqs := range plain {
			slices.Sort(seqs)
		}
		var known []*pendingNote // causes the log held already
		for _, p := range uniq {
			switch seq, ok := byCause[key{p.n.Recipient, p.n.Cause}]; {
			case p.n.Cause == "" && len(plain[p.n.Recipient]) == 0:
				return fmt.Errorf("store: %s: the log numbered fewer notifications for %s than were given", op, p.n.Recipient)
			case p.n.Cause == "":
				p.seq, plain[p.n.Recipient] = plain[p.n.Recipient][0], plain[p.n.Recipient][1:]
			case ok:
				p.seq = seq
			default:
				known = append(known, p)
			}
		}
		if err := s.loggedCauses(ctx, op, tenant, known); err != nil {
			return err
		}
		for _, p := range notes {
			if p.n.Cause != "" {
				p.seq = first[key{p.n.Recipient, p.n.Cause}].seq
			}
		}
		return nil
	}
}

// loggedCauses sets the seq of each of notes (one business's) to that of
// the notification its recipient's log holds for its cause.
func (s *DB) loggedCauses(ctx context.Context, op string, tenant conversations.TenantID, notes []*pendingNote) error {
	if len(notes) == 0 {
		return nil
	}
	staff, causes := make([]string, len(notes)), make([]string, len(notes))
	for i, p := range notes {
		staff[i], causes[i] = string(p.n.Recipient), string(p.n.Cause)
	}
	rows, err := s.query(ctx, `SELECT o.staff_id, o.cause, o.seq
  FROM unnest(?::text[], ?::text[]) AS i(staff_id, cause)
  JOIN notifications o ON o.tenant_id = ? AND o.staff_id = i.staff_id COLLATE "C" AND o.cause = i.cause COLLATE "C" AND o.cause <> ''`,
		staff, causes, string(tenant))
	if err != nil {
		return dbErr(op, err)
	}
	defer rows.Close()
	seqs := map[[2]string]int64{}
	for rows.Next() {
		var (
			who, cause string
			seq        int64
		)
		if err := rows.Scan(&who, &cause, &seq); err != nil {
			return dbErr(op, err)
		}
		seqs[[2]string{who, cause}] = seq
	}
	if err := rows.Err(); err != nil {
		return dbErr(op, err)
	}
	for _, p := range notes {
		seq, ok := seqs[[2]string{string(p.n.Recipient), string(p.n.Cause)}]
		if !ok {
			// The statement found it logged and now it is not: pruned in
			// between. Nothing to return an id for.
			return notFound(op, "the notification for "+string(p.n.Cause)+" was pruned while it was appended again")
		}
		p.seq = seq
	}
	return nil
}

// appendNotificationsTx appends notes in the caller's transaction (SQLite,
// whose one writer serializes appends anyway), one at a time.
func (s *DB) appendNotificationsTx(ctx context.Context, op string, notes []*pendingNote) error {
	for _, p := range notes {
		n := p.n
		if n.Cause != "" {
			// Logged already, maybe by an earlier one of notes: its id.
			err := s.queryRow(ctx, `SELECT seq FROM notifications WHERE tenant_id = ? AND staff_id = ? AND cause = ? AND cause <> ''`,
				string(n.Tenant), string(n.Recipient), string(n.Cause)).Scan(&p.seq)
			if err == nil {
				continue
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return dbErr(op, err)
			}
		}
		// The upsert locks the recipient's counter row until commit: the
		// next append for the same recipient waits here, so numbers commit
		// in order.
		if err := s.queryRow(ctx, `INSERT INTO notification_counters (tenant_id, staff_id, last_seq) VALUES (?, ?, 1)
ON CONFLICT (tenant_id, staff_id) DO UPDATE SET last_seq = notification_counters.last_seq + 1
RETURNING last_seq`, string(n.Tenant), string(n.Recipient)).Scan(&p.seq); err != nil {
			return dbErr(op, err)
		}
		if _, err := s.exec(ctx, `INSERT INTO notifications (tenant_id, staff_id, seq, type, thread_id, created_at, payload, cause)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			string(n.Tenant), string(n.Recipient), p.seq, string(n.Type), string(n.Thread), n.At, p.payload, string(n.Cause)); err != nil {
			return dbErr(op, err)
		}
	}
	return nil
}

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
	tenants, err := s.column(ctx, `SELECT DISTINCT tenant_id FROM notification_counters`)
	if err != nil {
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
