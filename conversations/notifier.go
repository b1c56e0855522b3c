package conversations

import (
	"context"
	"errors"
	"time"
)

// EventType says what a Notification is about.
type EventType string

const (
	EventMessage EventType = "message" // a new message in a thread the recipient watches
	EventStatus  EventType = "status"  // a status change of a message the recipient sent
	EventRead    EventType = "read"    // the recipient read a thread on another device
	EventBadge   EventType = "badge"   // the recipient's badge changed (an assignment, an archived thread)
)

// Notification tells one staff member about one event, with their badge
// count after it.
type Notification struct {
	// ID is set by a Notifier that logs notifications for replay (the
	// in-app stream's event id, which a reconnecting client sends back as
	// Last-Event-ID); the Service leaves it empty.
	ID        string
	Tenant    TenantID
	Recipient StaffID
	Type      EventType
	Thread    ThreadID
	Message   *Message // EventMessage, EventStatus
	ReadSeq   int64    // EventRead: the new read horizon
	Badge     int64    // the recipient's unread count after the event
	Urgent    bool     // an urgent escalation or emergency
	At        time.Time
	// Silent: the recipient's preferences (a muted thread, their quiet
	// hours, their push mode) ask that n show nothing and make no sound on
	// a phone. A push Notifier still updates the badge; the in-app stream
	// shows n as usual.
	Silent bool
	// Preview is how much of the message a push may show, per the
	// recipient's preference ("" is PreviewFull).
	Preview PreviewMode
	// Cause is the message whose arrival this notification reports (its
	// EventMessage, or the EventBadge it brings a viewer who does not watch
	// the thread); empty for the others. A new message's fan-out may run
	// more than once (a retried job, or one rescued after a crash
	// mid-fan-out), so a Notifier that logs notifications keeps one per
	// recipient and Cause: a repeat tells nobody twice.
	Cause MessageID
}

// Check reports a notification no Notifier can deliver: one without a
// business, a recipient or a type (an ErrInvalid naming the field).
func (n Notification) Check() error {
	switch {
	case n.Tenant == "":
		return Invalid("notification.tenant", "empty")
	case n.Recipient == "":
		return Invalid("notification.recipient", "empty")
	case n.Type == "":
		return Invalid("notification.type", "empty")
	}
	return nil
}

// Notifier delivers notifications (a realtime stream, phone push, ...).
//
// Notify is called once per recipient after the change it reports is
// committed. It honours ctx and is safe for concurrent use. An error is
// logged by the Service and never undoes the change: notifications are best
// effort, the inbox and badge are the truth.
//
// A new message's notifications (those with a Cause) may come again: with
// an Outbox, their fan-out is a job committed with the message, and a job
// that is retried, or rescued after a crash, runs again. A Notifier that
// keeps a log keeps one per recipient and Cause (store.DB's log does), so
// nobody is told twice; one that cannot (a push service) may repeat a push,
// which a collapse key per thread folds into the one already shown.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// BatchNotifier is a Notifier that can take several notifications at once,
// as one write where it keeps a log (the in-app Hub over store.DB logs a
// new message's whole fan-out in one statement). NotifyBatch means what
// Notify of each would, in order; its error is every failure's, joined. The
// Service finds it by type assertion, as database/sql finds a driver's
// optional interfaces, and hands it each fan-out's notifications together.
type BatchNotifier interface {
	Notifier
	NotifyBatch(ctx context.Context, ns []Notification) error
}

// NotifyBatch hands ns to nt: in one call when nt is a BatchNotifier, else
// one Notify at a time, joining the errors (one failure never keeps the
// others from being told).
func NotifyBatch(ctx context.Context, nt Notifier, ns []Notification) error {
	if b, ok := nt.(BatchNotifier); ok {
		return b.NotifyBatch(ctx, ns)
	}
	var errs []error
	for _, n := range ns {
		if err := nt.Notify(ctx, n); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
