package conversations

import "time"

// Draft is a message its author has not sent yet, kept so it survives the app
// closing and syncs across the author's devices. A draft is addressed either to
// an existing thread or to a new customer phone number. Sending it turns it
// into a message; ClientID makes repeated sends of the same draft one message.
type Draft struct {
	ID        DraftID
	Tenant    TenantID
	Author    StaffID
	Thread    ThreadID // the thread it is for, or
	To        string   // a new customer's E.164 number
	Job       JobID
	Body      string
	Media     []Media
	ClientID  string // the device's idempotency key for the eventual send
	Version   int64  // increases on every update; pass it back to detect conflicting edits
	CreatedAt time.Time
	UpdatedAt time.Time
}
