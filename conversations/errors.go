package conversations

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Every error the library returns for a caller's mistake or a
// state conflict wraps exactly one of these, so callers branch with errors.Is
// and never on message text.
var (
	// ErrInvalid: the input is malformed (empty or oversize body, bad phone
	// number, unknown enum value, missing id). Nothing was changed.
	ErrInvalid = errors.New("invalid input")
	// ErrNotFound: the thing does not exist, or exists only in another business.
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the viewer may not see or change the thing.
	ErrForbidden = errors.New("forbidden")
	// ErrConflict: the request contradicts stored state (a reused client id
	// with different content, a concurrent change).
	ErrConflict = errors.New("conflict")
	// ErrOptedOut: the customer texted STOP; no SMS goes to that number until START.
	ErrOptedOut = errors.New("recipient opted out")
	// ErrUnavailable: a dependency (provider, database) could not be reached; a
	// retry may help.
	ErrUnavailable = errors.New("unavailable")
)

// FieldError is an ErrInvalid that names the offending field.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("conversations: invalid %s: %s", e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Invalid returns a *FieldError for field.
func Invalid(field, reason string) error { return &FieldError{Field: field, Reason: reason} }

// ErrorClass says what a retry of a failed provider call can achieve.
type ErrorClass int

const (
	// Permanent: retrying the same request will fail the same way (invalid
	// number, carrier filtering, bad credentials).
	Permanent ErrorClass = iota + 1
	// Retryable: the request was not accepted; retrying later may succeed.
	Retryable
	// MaybeSent: the request reached the provider but its answer was lost
	// (5xx, dropped connection, timeout after write). Resending blindly may
	// send twice: reconcile first.
	MaybeSent
	// OptedOut: the provider says the recipient has opted out.
	OptedOut
)

func (c ErrorClass) String() string {
	switch c {
	case Permanent:
		return "permanent"
	case Retryable:
		return "retryable"
	case MaybeSent:
		return "maybe-sent"
	case OptedOut:
		return "opted-out"
	}
	return "unknown"
}

// ProviderError is how a Channel reports a failed send. It says whether a
// retry can help (Class) and when (RetryAfter, zero when the provider gave no
// hint).
type ProviderError struct {
	Provider   string        // "twilio", "sendgrid", ...
	Op         string        // "send", "fetch"
	Class      ErrorClass    // what a retry can achieve
	Code       string        // the provider's error code, when it gave one
	HTTPStatus int           // 0 when no response was read
	RetryAfter time.Duration // the provider's hint, when it gave one
	Reason     string        // plain-language reason a sender can be shown
	Err        error         // the underlying error, if any
}

func (e *ProviderError) Error() string {
	msg := e.Provider + ": " + e.Op + ": " + e.Class.String()
	if e.Code != "" {
		msg += " (code " + e.Code + ")"
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap exposes the cause and the matching sentinel: OptedOut is ErrOptedOut,
// Retryable and MaybeSent are ErrUnavailable.
func (e *ProviderError) Unwrap() []error {
	errs := []error{}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	switch e.Class {
	case OptedOut:
		errs = append(errs, ErrOptedOut)
	case Retryable, MaybeSent:
		errs = append(errs, ErrUnavailable)
	}
	return errs
}

// Temporary reports whether a later retry can succeed.
func (e *ProviderError) Temporary() bool { return e.Class == Retryable || e.Class == MaybeSent }
