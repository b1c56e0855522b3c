package conversations

import "github.com/google/uuid"

// Typed identifiers. They are strings so hosts can bring their own (a CRM's job
// or staff ids), and distinct types so a ThreadID is never passed where a
// MessageID is expected. Ids the library creates are UUIDv7: their text order is
// their creation order, so ordering by id follows time.
type (
	// TenantID names a business. Everything the library stores belongs to exactly one.
	TenantID string
	// StaffID names a member of a business's staff (technician, dispatcher, admin).
	StaffID string
	// ThreadID names a conversation.
	ThreadID string
	// MessageID names one message.
	MessageID string
	// JobID names a job in the host's CRM.
	JobID string
	// DraftID names an unsent draft.
	DraftID string
	// SuggestionID names one offered reply suggestion.
	SuggestionID string
)

// NewID returns a new time-ordered id (UUIDv7) of any of the id types.
// Within one process successive calls return increasing ids.
func NewID[T ~string]() T {
	return T(uuid.Must(uuid.NewV7()).String())
}
