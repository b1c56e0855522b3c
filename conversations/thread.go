package conversations

import (
	"slices"
	"time"
)

// ThreadKind says who a thread is with.
type ThreadKind string

const (
	// ThreadCustomer is a conversation with one customer address (phone or
	// email) through one business number; there is exactly one per
	// (business, business number, customer address).
	ThreadCustomer ThreadKind = "customer"
	// ThreadInternal is a conversation among staff of one business.
	ThreadInternal ThreadKind = "internal"
)

// Contact is the customer side of a customer thread.
type Contact struct {
	Phone string // E.164, e.g. +15005550006
	Email string
	Name  string
	Ref   string // the CRM's contact id, when known
}

// Thread is one conversation. Participants, Jobs and Assignees are filled when
// a single thread is loaded (Service.Thread) and are what the policy reads; an
// inbox row carries the summary fields only.
type Thread struct {
	ID             ThreadID
	Tenant         TenantID
	Kind           ThreadKind
	BusinessNumber string // the business's provisioned number (customer threads)
	Contact        Contact
	Subject        string // internal threads: an optional title
	CreatedAt      time.Time
	CreatedBy      StaffID
	LastMessageAt  time.Time
	LastSeq        int64 // the seq of the newest message; 0 when empty
	Preview        string
	Archived       bool

	Participants []StaffID // staff taking part (sorted)
	Jobs         []JobID   // jobs linked to the thread (sorted)
	Assignees    []StaffID // staff assigned to any linked job (sorted)

	// Unread is the listing viewer's count of messages after their read
	// horizon; only set on inbox rows.
	Unread int64
}

// HasParticipant reports whether s takes part in the thread.
func (t Thread) HasParticipant(s StaffID) bool { return slices.Contains(t.Participants, s) }

// HasAssignee reports whether s is assigned to a job linked to the thread.
func (t Thread) HasAssignee(s StaffID) bool { return slices.Contains(t.Assignees, s) }

// CustomerKey identifies the one customer thread per business, business
// number and customer address.
type CustomerKey struct {
	Tenant         TenantID
	BusinessNumber string
	Address        string // the customer's E.164 phone or email address
}

// InboxFilter narrows an inbox listing.
type InboxFilter string

const (
	FilterAll      InboxFilter = ""
	FilterUnread   InboxFilter = "unread"
	FilterCustomer InboxFilter = "customer"
	FilterInternal InboxFilter = "internal"
)

// Valid reports whether f is a known filter.
func (f InboxFilter) Valid() bool {
	switch f {
	case FilterAll, FilterUnread, FilterCustomer, FilterInternal:
		return true
	}
	return false
}

// InboxQuery asks for one page of an inbox, newest activity first.
type InboxQuery struct {
	Filter InboxFilter
	Limit  int    // 1..MaxPageSize; 0 means DefaultPageSize
	After  string // the NextCursor of the previous page; "" for the first
}

// InboxPage is one page of an inbox. NextCursor is "" on the last page.
type InboxPage struct {
	Threads    []Thread
	NextCursor string
}

// Page sizes for listings.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)
