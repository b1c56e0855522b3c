package conversations

import (
	"context"
	"time"
)

// JobContext is what the host's CRM knows about a job, for suggestions and
// for finding the job's customer.
type JobContext struct {
	Tenant      TenantID
	ID          JobID
	Title       string
	Status      string
	WindowStart time.Time // the appointment window, zero when unset
	WindowEnd   time.Time
	ETA         time.Time // the technician's estimated arrival, zero when unknown
	Address     string
	Technician  string // the assigned technician's display name
	Business    string // the business's display name
	Customer    Contact
	Notes       string
	TimeZone    string // IANA name for showing times; "" means UTC
}

// Jobs reads job context from the host's CRM. It returns ErrNotFound for an
// unknown job (or one of another tenant). The store package ships a
// table-backed implementation for hosts that let the library keep jobs.
type Jobs interface {
	Job(ctx context.Context, tenant TenantID, id JobID) (JobContext, error)
}

// TimelineEntry is one message as it appears on a contact's activity timeline
// in the CRM.
type TimelineEntry struct {
	Tenant    TenantID
	Contact   Contact
	Thread    ThreadID
	Message   MessageID
	Kind      Kind
	Direction Direction
	Channel   string
	Source    Source
	Author    StaffID
	Body      string
	At        time.Time
}

// Timeline records messages on a contact's activity timeline. Record must be
// idempotent on Message: recording the same message twice keeps one entry.
type Timeline interface {
	Record(ctx context.Context, e TimelineEntry) error
}

// TimelineStore is a Store that keeps the contacts' activity timeline in
// its own database (store.DB's table-backed timeline). It is an optional
// Store ability, used when Config.StoreTimeline asks for it (NewService
// checks the Store has it): the Service then calls RecordTimeline on the
// transaction-bound Store that has just stored the message, so the entry
// commits with the message, and, being a method of that transaction, can
// be written nowhere else. RecordTimeline must be idempotent on
// e.Message, as Timeline's Record is. A Store bound to a transaction (Tx)
// implements it when the Store does.
type TimelineStore interface {
	RecordTimeline(ctx context.Context, e TimelineEntry) error
}
