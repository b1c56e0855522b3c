package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// The table-backed contact activity timeline, for hosts that let the library
// keep it: one entry per message, recorded in the message's transaction.

var (
	_ conversations.Timeline      = (*DB)(nil)
	_ conversations.TimelineStore = (*DB)(nil)
)

type timelineRow struct {
	bun.BaseModel `bun:"table:timeline_entries"`

	TenantID     string    `bun:"tenant_id,pk"`
	MessageID    string    `bun:"message_id,pk"`
	ThreadID     string    `bun:"thread_id"`
	ContactRef   string    `bun:"contact_ref"`
	ContactPhone string    `bun:"contact_phone"`
	ContactEmail string    `bun:"contact_email"`
	ContactName  string    `bun:"contact_name"`
	Kind         string    `bun:"kind"`
	Direction    string    `bun:"direction"`
	Channel      string    `bun:"channel"`
	Source       string    `bun:"source"`
	AuthorID     string    `bun:"author_id"`
	Body         string    `bun:"body"`
	At           time.Time `bun:"at"`
}

// Record adds e to its contact's timeline. Recording the same message again
// keeps the first entry.
func (s *DB) Record(ctx context.Context, e conversations.TimelineEntry) error {
	const op = "record timeline"
	switch {
	case e.Tenant == "":
		return invalid(op, "entry.tenant", "empty")
	case e.Message == "":
		return invalid(op, "entry.message", "empty")
	case e.Contact.Ref == "" && e.Contact.Phone == "" && e.Contact.Email == "":
		return invalid(op, "entry.contact", "no ref, phone or email")
	}
	row := timelineRow{
		TenantID: string(e.Tenant), MessageID: string(e.Message), ThreadID: string(e.Thread),
		ContactRef: e.Contact.Ref, ContactPhone: e.Contact.Phone, ContactEmail: e.Contact.Email, ContactName: e.Contact.Name,
		Kind: string(e.Kind), Direction: string(e.Direction), Channel: e.Channel, Source: string(e.Source),
		AuthorID: string(e.Author), Body: e.Body, At: dbTime(e.At),
	}
	_, err := s.idb.NewInsert().Model(&row).On("CONFLICT (tenant_id, message_id) DO NOTHING").Exec(ctx)
	return dbErr(op, err)
}

// RecordTimeline is Record (conversations.TimelineStore): on a DB bound to
// a transaction, the one that stores the message, so both commit together.
func (s *DB) RecordTimeline(ctx context.Context, e conversations.TimelineEntry) error {
	return s.Record(ctx, e)
}

// ContactTimeline returns one contact's activity, newest first: the entries
// whose contact has c's Ref, or else c's Phone, or else c's Email. before,
// when not zero, pages back (entries older than it).
func (s *DB) ContactTimeline(ctx context.Context, tenant conversations.TenantID, c conversations.Contact, before time.Time, limit int) ([]conversations.TimelineEntry, error) {
	const op = "contact timeline"
	if limit <= 0 || limit > conversations.MaxPageSize {
		limit = conversations.DefaultPageSize
	}
	q := s.idb.NewSelect().Model((*timelineRow)(nil)).Where("tenant_id = ?", string(tenant))
	switch {
	case c.Ref != "":
		q = q.Where("contact_ref = ?", c.Ref)
	case c.Phone != "":
		q = q.Where("contact_phone = ?", c.Phone)
	case c.Email != "":
		q = q.Where("contact_email = ?", c.Email)
	default:
		return nil, invalid(op, "contact", "no ref, phone or email")
	}
	if !before.IsZero() {
		q = q.Where("at < ?", dbTime(before))
	}
	var rows []timelineRow
	if err := q.Order("at DESC", "message_id DESC").Limit(int64(limit)).Scan(ctx, &rows); err != nil {
		return nil, dbErr(op, err)
	}
	out := make([]conversations.TimelineEntry, len(rows))
	for i, r := range rows {
		out[i] = conversations.TimelineEntry{
			Tenant: tenant, Message: conversations.MessageID(r.MessageID), Thread: conversations.ThreadID(r.ThreadID),
			Contact: conversations.Contact{Ref: r.ContactRef, Phone: r.ContactPhone, Email: r.ContactEmail, Name: r.ContactName},
			Kind:    conversations.Kind(r.Kind), Direction: conversations.Direction(r.Direction), Channel: r.Channel,
			Source: conversations.Source(r.Source), Author: conversations.StaffID(r.AuthorID), Body: r.Body, At: r.At.UTC(),
		}
	}
	return out, nil
}
