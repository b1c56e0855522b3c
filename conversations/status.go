package conversations

import "time"

// Status is a message's delivery state.
//
// Outbound messages move forward only: queued < sending < sent < delivered,
// and undelivered and failed end it. Unknown ends a message that may have
// reached the provider but could never be confirmed: the customer may have
// it, so it is not failed, and any later report from the provider still
// moves it on. Inbound messages are received. A late or
// repeated status report never moves a message backwards, and every status
// keeps the time it was first reported (see Merge).
type Status string

const (
	StatusQueued      Status = "queued"
	StatusSending     Status = "sending"
	StatusUnknown     Status = "unknown"
	StatusSent        Status = "sent"
	StatusDelivered   Status = "delivered"
	StatusUndelivered Status = "undelivered"
	StatusFailed      Status = "failed"
	StatusReceived    Status = "received"
)

// Rank orders statuses for the forward-only rule. The order is total, so
// applying any set of reports in any order gives the same result: a carrier
// that reports undelivered after delivered is believed, and failed (ours or the
// provider's final word) outranks everything.
func (s Status) Rank() int {
	switch s {
	case StatusQueued:
		return 1
	case StatusSending:
		return 2
	case StatusUnknown:
		return 3
	case StatusSent:
		return 4
	case StatusDelivered:
		return 5
	case StatusUndelivered:
		return 6
	case StatusFailed:
		return 7
	case StatusReceived:
		return 8
	}
	return 0
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return s.Rank() > 0 }

// Final reports whether no further delivery report can be expected.
func (s Status) Final() bool {
	return s == StatusDelivered || s == StatusUndelivered || s == StatusFailed || s == StatusReceived || s == StatusUnknown
}

// ReasonMaybeSent is the ErrorReason of a message that ends StatusUnknown.
const ReasonMaybeSent = "unknown: may have been sent"

// StatusUpdate is a delivery report for one outbound message. It names the
// message by our id, the provider's id, or both.
type StatusUpdate struct {
	Tenant      TenantID
	Message     MessageID
	Channel     string // with ProviderID: which provider's id it is
	ProviderID  string
	Status      Status
	At          time.Time // when the provider says it happened; zero means now
	ErrorCode   string
	ErrorReason string
}

// Merge applies u to m under the forward-only rule and reports whether
// anything changed. The status becomes the higher-ranked of the two; each
// status's timestamp is the earliest one reported for it; error details come
// with the status that carries them. Merge is commutative over a set of
// delivery reports with distinct statuses: every order of application ends
// equal. StatusReceived is not a delivery report (the Service refuses it in
// ApplyStatus); it marks inbound messages from the start.
func Merge(m Message, u StatusUpdate) (Message, bool) {
	before := m
	at := u.At.UTC()
	switch u.Status {
	case StatusSent:
		m.SentAt = earliest(m.SentAt, at)
	case StatusDelivered:
		m.DeliveredAt = earliest(m.DeliveredAt, at)
	case StatusUndelivered, StatusFailed:
		m.FailedAt = earliest(m.FailedAt, at)
	case StatusUnknown:
		// Not a failure: no FailedAt; the reason says what is known.
	}
	if u.ProviderID != "" && m.ProviderID == "" {
		m.ProviderID = u.ProviderID
	}
	if u.Status.Rank() > m.Status.Rank() {
		m.Status = u.Status
		switch u.Status {
		case StatusUndelivered, StatusFailed, StatusUnknown:
			m.ErrorCode, m.ErrorReason = u.ErrorCode, u.ErrorReason
		default:
			// Only unknown ranks below a success and carries a reason:
			// the provider's word replaces "may have been sent".
			m.ErrorCode, m.ErrorReason = "", ""
		}
	}
	changed := m.Status != before.Status || !m.SentAt.Equal(before.SentAt) ||
		!m.DeliveredAt.Equal(before.DeliveredAt) || !m.FailedAt.Equal(before.FailedAt) ||
		m.ProviderID != before.ProviderID || m.ErrorCode != before.ErrorCode || m.ErrorReason != before.ErrorReason
	return m, changed
}

func earliest(have, at time.Time) time.Time {
	if have.IsZero() || (!at.IsZero() && at.Before(have)) {
		return at
	}
	return have
}

// Check reports whether u may be applied to m, the message it names: a
// delivery report is about an outbound message, and one that names the
// provider's id (and channel) must carry the ones m was sent with. A report
// that fails the check is a *StatusRefusedError, and applies nothing. A
// provider id m does not have yet is the first receipt, and applies.
func (u StatusUpdate) Check(m Message) error {
	switch {
	case m.Direction != DirectionOutbound:
		return &StatusRefusedError{Message: m.ID, Reason: "delivery reports apply to outbound messages only"}
	case u.Channel != "" && u.Channel != m.Channel:
		return &StatusRefusedError{Message: m.ID, Reason: "the report's channel is not the message's"}
	case u.ProviderID != "" && m.ProviderID != "" && u.ProviderID != m.ProviderID:
		return &StatusRefusedError{Message: m.ID, Reason: "the report's provider id is not the message's"}
	}
	return nil
}

// StatusRefusedError is a delivery report that does not apply to the
// message it names (see StatusUpdate.Check). It is ErrConflict: the report
// contradicts what is stored, and nothing was changed.
type StatusRefusedError struct {
	Message MessageID
	Reason  string
}

func (e *StatusRefusedError) Error() string {
	return "conversations: status report refused: " + e.Reason
}
func (e *StatusRefusedError) Unwrap() error { return ErrConflict }
