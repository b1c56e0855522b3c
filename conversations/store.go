package conversations

import (
	"context"
	"time"
)

// Store is the persistence the Service needs: the core a new database
// implements plainly. The store package implements it on PostgreSQL and
// SQLite, and store/storetest is the suite an implementation must pass.
// Faster answers to hot calls are optional interfaces (fastpath.go:
// InboundAppender, VisibleHistoryReader, BadgesCounter, VisibleThreadsFilter,
// StatusFromApplier), found by type assertion when the Service is built;
// without them the Service answers from these methods. A Store whose
// transactions can also queue work is a QueueStore (outbox.go).
//
// Rules every implementation honours:
//   - Every method is scoped to the tenant it is given (in its arguments or
//     in the value it stores) and never reads or writes another tenant's rows,
//     whatever ids it is passed: an id of another tenant is ErrNotFound.
//   - Missing rows are ErrNotFound; unique-key clashes the method does not
//     resolve itself are ErrConflict; both wrapped, checked with errors.Is.
//   - Listings filter in the database (a Scope becomes a WHERE clause), never
//     by loading rows and dropping some.
//   - Methods are safe for concurrent use. Tx runs fn in one transaction and
//     passes it a Store bound to that transaction; Tx on a bound Store runs fn
//     in the same transaction. fn's error rolls everything back. A Store
//     that implements an optional interface implements it on the Store it
//     passes to fn as well.
type Store interface {
	Tx(ctx context.Context, fn func(tx Store) error) error

	StaffStore
	NumberStore
	ThreadStore
	AssignmentStore
	MessageStore
	ReadStore
	DraftStore
	OptOutStore
	SuggestionStore
	SettingsStore
}

// StaffStore keeps the staff directory the host syncs in.
type StaffStore interface {
	// PutStaff creates or updates a staff member.
	PutStaff(ctx context.Context, s Staff) error
	GetStaff(ctx context.Context, tenant TenantID, id StaffID) (Staff, error)
	// ListStaff returns the tenant's staff ordered by id.
	ListStaff(ctx context.Context, tenant TenantID) ([]Staff, error)
}

// BusinessNumber is a phone number (or sender address) provisioned to a
// business. Inbound messages to it belong to that business.
type BusinessNumber struct {
	Tenant           TenantID
	Number           string // E.164 (or an email sender address)
	Channel          string // ChannelSMS or ChannelEmail
	MessagingService string // a provider-side sender pool id, when the business sends through one
	Default          bool   // the number outbound messages use when none is named
	CreatedAt        time.Time
}

// NumberStore maps provisioned numbers to businesses.
type NumberStore interface {
	// PutNumber provisions a number to a tenant. A number provisioned to
	// another tenant is ErrConflict. Setting Default clears the tenant's other
	// default of the same channel.
	PutNumber(ctx context.Context, n BusinessNumber) error
	// NumberOwner finds who a number is provisioned to (inbound routing: the
	// one lookup that is not tenant-scoped, because the tenant is what it finds).
	NumberOwner(ctx context.Context, number string) (BusinessNumber, error)
	// ListNumbers returns a tenant's numbers, the default first.
	ListNumbers(ctx context.Context, tenant TenantID) ([]BusinessNumber, error)
}

// ThreadStore keeps threads, their participants and their linked jobs.
type ThreadStore interface {
	// CreateThread stores a new thread with its Participants and Jobs.
	CreateThread(ctx context.Context, t Thread) error
	// CustomerThread returns the customer thread for (t.Tenant,
	// t.BusinessNumber, address), creating it from t when there is none;
	// address is t.Contact.Phone, or t.Contact.Email when Phone is empty.
	// created says which. Safe against concurrent calls for the same key.
	CustomerThread(ctx context.Context, t Thread) (thread Thread, created bool, err error)
	// GetThread returns a thread with Participants, Jobs and Assignees.
	GetThread(ctx context.Context, tenant TenantID, id ThreadID) (Thread, error)
	// Inbox lists the threads the scope allows, newest activity first
	// (LastMessageAt, then ID, both descending), non-archived only, with the
	// scope's staff member's Unread per row. The cursor is opaque.
	Inbox(ctx context.Context, scope Scope, q InboxQuery) (InboxPage, error)
	SetArchived(ctx context.Context, tenant TenantID, id ThreadID, archived bool) error
	AddParticipants(ctx context.Context, tenant TenantID, id ThreadID, staff ...StaffID) error
	RemoveParticipant(ctx context.Context, tenant TenantID, id ThreadID, staff StaffID) error
	LinkJob(ctx context.Context, tenant TenantID, id ThreadID, job JobID) error
	UnlinkJob(ctx context.Context, tenant TenantID, id ThreadID, job JobID) error
}

// AssignmentStore keeps which staff are assigned to which jobs, as the host's
// CRM pushes them in. A change takes effect on the very next read.
type AssignmentStore interface {
	Assign(ctx context.Context, tenant TenantID, job JobID, staff ...StaffID) error
	Unassign(ctx context.Context, tenant TenantID, job JobID, staff ...StaffID) error
	// SetAssignees replaces a job's assignees (an empty list clears them).
	SetAssignees(ctx context.Context, tenant TenantID, job JobID, staff []StaffID) error
	// Assignees returns a job's assignees ordered by id.
	Assignees(ctx context.Context, tenant TenantID, job JobID) ([]StaffID, error)
}

// HistoryQuery asks for one page of a thread's messages, newest first.
type HistoryQuery struct {
	Limit  int   // 1..MaxPageSize; 0 means DefaultPageSize
	Before int64 // return messages with Seq < Before; 0 for the newest page
}

// HistoryPage is one page of history, newest first. NextBefore is the
// Before of the next (older) page, 0 when there is none. Pages are stable
// while new messages arrive, because they are cut by Seq.
type HistoryPage struct {
	Messages   []Message
	NextBefore int64
}

// MessageStore keeps messages.
type MessageStore interface {
	// AppendMessage stores m as the thread's next message: it assigns Seq,
	// moves the thread's LastSeq, LastMessageAt and Preview, and un-archives
	// the thread. m.ID, CreatedAt and Status are set by the caller.
	//
	// Duplicates are not errors: when a message with the same (Tenant,
	// Channel, ProviderID) or the same (Tenant, Author, ClientID) exists, it
	// returns that message and created=false, and changes nothing.
	AppendMessage(ctx context.Context, m Message) (msg Message, created bool, err error)
	GetMessage(ctx context.Context, tenant TenantID, id MessageID) (Message, error)
	// MessageByProviderID finds a message by its channel and provider id.
	MessageByProviderID(ctx context.Context, tenant TenantID, channel, providerID string) (Message, error)
	// MessageByClientID finds a message by its author and client id.
	MessageByClientID(ctx context.Context, tenant TenantID, author StaffID, clientID string) (Message, error)
	History(ctx context.Context, tenant TenantID, thread ThreadID, q HistoryQuery) (HistoryPage, error)
	// ApplyStatus applies u to the message it names (u.Message, or else
	// u.Channel + u.ProviderID) with Merge, atomically against concurrent
	// updates of the same message, and returns the result and whether
	// anything changed. A report u.Check refuses for the message changes
	// nothing and is that error (a *StatusRefusedError, ErrConflict).
	ApplyStatus(ctx context.Context, u StatusUpdate) (Message, bool, error)
}

// ReadStore keeps per-viewer read horizons and answers unread counts.
type ReadStore interface {
	// MarkRead moves staff's read horizon in a thread to seq, clamped to
	// the thread's LastSeq; it never moves backwards. It returns the horizon
	// after the call.
	MarkRead(ctx context.Context, tenant TenantID, staff StaffID, thread ThreadID, seq int64) (int64, error)
	// ReadHorizon returns staff's horizon in a thread (0 when never read).
	ReadHorizon(ctx context.Context, tenant TenantID, staff StaffID, thread ThreadID) (int64, error)
	// Badge returns the scope's staff member's unread messages summed over
	// exactly the non-archived threads the scope allows.
	Badge(ctx context.Context, scope Scope) (int64, error)
}

// DraftStore keeps drafts per author.
type DraftStore interface {
	// PutDraft creates d (d.Version 0) or updates it (d.Version must equal
	// the stored version, else ErrConflict) and returns the stored draft with
	// its new Version. Two drafts of one author cannot share a ClientID.
	PutDraft(ctx context.Context, d Draft) (Draft, error)
	GetDraft(ctx context.Context, tenant TenantID, author StaffID, id DraftID) (Draft, error)
	// ListDrafts returns an author's drafts, most recently updated first.
	ListDrafts(ctx context.Context, tenant TenantID, author StaffID) ([]Draft, error)
	DeleteDraft(ctx context.Context, tenant TenantID, author StaffID, id DraftID) error
}

// OptOut is one entry of the opt-out ledger: a customer texting STOP (OptedOut
// true) or START (false) to a business.
type OptOut struct {
	Tenant         TenantID
	Address        string // the customer's E.164 number
	BusinessNumber string // the number they texted
	Keyword        string // the word they sent, upper-cased
	OptedOut       bool
	At             time.Time
}

// OptOutStore keeps the opt-out ledger.
type OptOutStore interface {
	// RecordOptOut appends e to the ledger and makes it the address's
	// current state for the tenant.
	RecordOptOut(ctx context.Context, e OptOut) error
	// OptedOut reports whether address is currently opted out of the
	// tenant's SMS, with the entry that made it so.
	OptedOut(ctx context.Context, tenant TenantID, address string) (OptOut, bool, error)
}

// SuggestionStore keeps the reply suggestions offered to each viewer and
// what they did with them.
type SuggestionStore interface {
	// PutSuggestions stores suggestions offered to one viewer (s.Viewer) for
	// one inbound message (s.ForMessage), all in state SuggestionOffered.
	PutSuggestions(ctx context.Context, ss []Suggestion) error
	// Suggestions returns what was offered to viewer for an inbound message,
	// in the order offered, whatever their state.
	Suggestions(ctx context.Context, tenant TenantID, viewer StaffID, forMessage MessageID) ([]Suggestion, error)
	// GetSuggestion returns one suggestion offered to viewer.
	GetSuggestion(ctx context.Context, tenant TenantID, viewer StaffID, id SuggestionID) (Suggestion, error)
	// SetSuggestionState moves an offered suggestion to used, edited or
	// dismissed, recording the message sent with it (used, edited). Setting
	// the state it already has is a no-op; any other change of a suggestion
	// that is no longer offered is ErrConflict.
	SetSuggestionState(ctx context.Context, tenant TenantID, viewer StaffID, id SuggestionID, state SuggestionState, sent MessageID) (Suggestion, error)
}
