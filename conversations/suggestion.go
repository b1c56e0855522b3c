package conversations

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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
	// Language is the language detected in the customer's message, as a
	// BCP 47 tag ("en", "es", "fr"); "" when the Suggester did not say. The
	// reply is in that language when the Suggester speaks it, in English
	// otherwise, so a host can see who got an English answer and why.
	Language  string
	State     SuggestionState
	Sent      MessageID // the message sent with it, once used or edited
	CreatedAt time.Time
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
	// Now is when the request is made: "today", "in an hour" and whether an
	// ETA has passed are read against it. Zero means the Suggester's own
	// clock.
	Now time.Time
}

// ToAnswer returns the message a Suggester answers: the newest inbound one.
// A request with none, or whose newest inbound message has neither text nor
// media, is ErrInvalid: there is nothing to reply to.
func (r SuggestRequest) ToAnswer() (Message, error) {
	in, ok := r.LastInbound()
	switch {
	case !ok:
		return Message{}, Invalid("messages", "no inbound message to answer")
	case strings.TrimSpace(in.Body) == "" && len(in.Media) == 0:
		return Message{}, Invalid("messages", "the message to answer has neither text nor media")
	}
	return in, nil
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

// SuggestionRule names one rule of the Suggester contract that the
// suggestions themselves must keep (the package suggest adds the rules about
// what a text may claim).
type SuggestionRule string

// The rules CheckSuggestions checks, in the order it checks them.
const (
	SuggestCount      SuggestionRule = "between 2 and 3 suggestions"
	SuggestNonEmpty   SuggestionRule = "non-empty text"
	SuggestPlainText  SuggestionRule = "plain UTF-8 text without control characters"
	SuggestLength     SuggestionRule = "at most 320 characters"
	SuggestDistinct   SuggestionRule = "distinct texts"
	SuggestIntent     SuggestionRule = "a known intent"
	SuggestConfidence SuggestionRule = "confidence in [0,1]"
)

// SuggestionError reports suggestions that break a rule of the Suggester
// contract. It is not an ErrInvalid: the caller's request was fine, the
// answer was not.
type SuggestionError struct {
	Rule   SuggestionRule
	Index  int // the offending suggestion; -1 when the list as a whole is wrong
	Detail string
}

func (e *SuggestionError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("suggest: rule %q broken: %s", e.Rule, e.Detail)
	}
	return fmt.Sprintf("suggest: suggestion %d breaks rule %q: %s", e.Index, e.Rule, e.Detail)
}

// CheckSuggestions is the one home of the contract's rules on the
// suggestions themselves: their number, non-empty distinct plain texts of at
// most MaxSuggestionLength characters, known intents and confidences in
// [0,1]. It returns the first broken rule as a *SuggestionError, or nil. The
// Service runs it on every answer; suggest.Validate runs it and then checks
// what the texts claim against the request.
func CheckSuggestions(ss []Suggestion) error {
	if n := len(ss); n < MinSuggestions || n > MaxSuggestions {
		return &SuggestionError{Rule: SuggestCount, Index: -1, Detail: fmt.Sprintf("got %d", n)}
	}
	seen := make(map[string]int, len(ss))
	for i, s := range ss {
		if strings.TrimSpace(s.Text) == "" {
			return &SuggestionError{Rule: SuggestNonEmpty, Index: i, Detail: "blank text"}
		}
		if !utf8.ValidString(s.Text) {
			return &SuggestionError{Rule: SuggestPlainText, Index: i, Detail: "not valid UTF-8"}
		}
		for _, r := range s.Text {
			if unicode.IsControl(r) && r != '\n' {
				return &SuggestionError{Rule: SuggestPlainText, Index: i, Detail: fmt.Sprintf("control character %U", r)}
			}
		}
		if n := utf8.RuneCountInString(s.Text); n > MaxSuggestionLength {
			return &SuggestionError{Rule: SuggestLength, Index: i, Detail: fmt.Sprintf("%d characters", n)}
		}
		key := FoldSuggestion(s.Text)
		if j, ok := seen[key]; ok {
			return &SuggestionError{Rule: SuggestDistinct, Index: i, Detail: fmt.Sprintf("same text as suggestion %d", j)}
		}
		seen[key] = i
		if !s.Intent.Valid() {
			return &SuggestionError{Rule: SuggestIntent, Index: i, Detail: fmt.Sprintf("unknown intent %q", s.Intent)}
		}
		if math.IsNaN(s.Confidence) || s.Confidence < 0 || s.Confidence > 1 {
			return &SuggestionError{Rule: SuggestConfidence, Index: i, Detail: fmt.Sprintf("confidence %v", s.Confidence)}
		}
	}
	return nil
}

// FoldSuggestion is the key under which two suggestion texts count as the
// same: case-insensitive, with runs of white space collapsed.
func FoldSuggestion(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// SuggestionRate is what staff did with the suggestions of one intent from
// one source: how many were offered, and of those how many were sent as
// offered, sent after an edit, dismissed, or are still untouched. A host
// reads it to see which intents need work.
type SuggestionRate struct {
	Intent    Intent
	Source    string
	Offered   int // every suggestion made, whatever happened to it since
	Used      int
	Edited    int
	Dismissed int
	// MeanEditDistance is the mean number of characters (runes) staff
	// changed in the edited ones; 0 when none was edited.
	MeanEditDistance float64
}

// UsedRate is the share of offered suggestions sent as offered.
func (r SuggestionRate) UsedRate() float64 { return rate(r.Used, r.Offered) }

// EditedRate is the share of offered suggestions sent after an edit.
func (r SuggestionRate) EditedRate() float64 { return rate(r.Edited, r.Offered) }

// DismissedRate is the share of offered suggestions dismissed.
func (r SuggestionRate) DismissedRate() float64 { return rate(r.Dismissed, r.Offered) }

func rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// Suggester proposes replies to a customer's message.
//
// Suggest returns between MinSuggestions and MaxSuggestions suggestions with
// distinct, non-empty texts of at most MaxSuggestionLength characters, each
// with a valid Intent and a Confidence in [0,1]. It must not state a fact the
// request lacks: no time the job does not hold, no action nobody took, no
// price or discount (suggest.Validate checks this). It honours ctx's deadline and
// returns ctx.Err() when it gives up. Implementations are safe for concurrent
// use. A request whose ToAnswer fails is ErrInvalid. The
// suggesttest package checks all of this.
type Suggester interface {
	Suggest(ctx context.Context, req SuggestRequest) ([]Suggestion, error)
}
