package conversations

import (
	"context"
	"time"
)

// Intent is what a customer's message is about; suggestions answer one.
type Intent string

const (
	IntentETA        Intent = "eta"
	IntentReschedule Intent = "reschedule"
	IntentCancel     Intent = "cancel"
	IntentConfirm    Intent = "confirm"
	IntentAccess     Intent = "access"
	IntentPricing    Intent = "pricing"
	IntentPayment    Intent = "payment"
	IntentThanks     Intent = "thanks"
	IntentComplaint  Intent = "complaint"
	IntentEmergency  Intent = "emergency"
	IntentOther      Intent = "other"
)

// Intents lists every intent, in a fixed order.
var Intents = []Intent{
	IntentETA, IntentReschedule, IntentCancel, IntentConfirm, IntentAccess, IntentPricing,
	IntentPayment, IntentThanks, IntentComplaint, IntentEmergency, IntentOther,
}

// Valid reports whether i is one of Intents.
func (i Intent) Valid() bool {
	for _, k := range Intents {
		if i == k {
			return true
		}
	}
	return false
}

// SuggestionState tracks what the viewer did with a suggestion.
type SuggestionState string

const (
	SuggestionOffered   SuggestionState = "offered"
	SuggestionUsed      SuggestionState = "used"
	SuggestionEdited    SuggestionState = "edited"
	SuggestionDismissed SuggestionState = "dismissed"
)

// Suggestion is one suggested reply.
type Suggestion struct {
	ID         SuggestionID
	Tenant     TenantID
	Thread     ThreadID
	ForMessage MessageID // the inbound message it answers
	Viewer     StaffID   // whom it was offered to
	Text       string
	Intent     Intent
	Confidence float64 // 0..1
	Urgent     bool    // an emergency: show it first and mark it
	Source     string  // which suggester made it ("rules", "llm", ...)
	State      SuggestionState
	Sent       MessageID // the message sent with it, once used or edited
	CreatedAt  time.Time
}

// Limits on a suggestion.
const (
	MinSuggestions      = 2
	MaxSuggestions      = 3
	MaxSuggestionLength = 320
)

// SuggestRequest is what a Suggester gets: the thread, its recent messages
// oldest first (the last inbound one is the message to answer), the job's
// context when the thread is linked to a job, and who is asking.
type SuggestRequest struct {
	Thread   Thread
	Messages []Message
	Job      *JobContext // nil when no job is linked or the host has none
	Viewer   Viewer
	Author   Staff  // the viewer's own record (their name signs replies)
	Business string // the business's display name, when known
}

// LastInbound returns the newest inbound message, if any.
func (r SuggestRequest) LastInbound() (Message, bool) {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Direction == DirectionInbound {
			return r.Messages[i], true
		}
	}
	return Message{}, false
}

// Suggester proposes replies to a customer's message.
//
// Suggest returns between MinSuggestions and MaxSuggestions suggestions with
// distinct, non-empty texts of at most MaxSuggestionLength characters, each
// with a valid Intent and a Confidence in [0,1]. It must not state a fact the
// request lacks (an ETA the job does not have). It honours ctx's deadline and
// returns ctx.Err() when it gives up. Implementations are safe for concurrent
// use. A request with no inbound message to answer is ErrInvalid. The
// suggesttest package checks all of this.
type Suggester interface {
	Suggest(ctx context.Context, req SuggestRequest) ([]Suggestion, error)
}
