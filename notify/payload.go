package notify

import (
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Payload is the JSON form of a conversations.Notification that leaves the
// server: the data of an in-app stream event and the body of a push-gateway
// web hook. It carries what an app needs to update its screen without another
// round trip (the thread, a summary of the message, the badge) and leaves out
// provider bookkeeping (addresses, provider ids).
type Payload struct {
	ID        string          `json:"id,omitempty"` // the in-app event id, when the notification was logged
	Tenant    string          `json:"tenant"`
	Recipient string          `json:"recipient"`
	Type      string          `json:"type"` // "message", "status", "read"
	Thread    string          `json:"thread"`
	Message   *MessageSummary `json:"message,omitempty"`
	ReadSeq   int64           `json:"read_seq,omitempty"` // "read": the new read horizon
	Badge     int64           `json:"badge"`              // the recipient's unread count after the event
	Urgent    bool            `json:"urgent,omitempty"`
	At        time.Time       `json:"at,omitzero"`
}

// MessageSummary is the part of a message a notification shows.
type MessageSummary struct {
	ID          string                `json:"id"`
	Seq         int64                 `json:"seq"`
	Kind        string                `json:"kind"`
	Direction   string                `json:"direction"`
	Channel     string                `json:"channel"`
	AuthorType  string                `json:"author_type"`
	Author      string                `json:"author,omitempty"` // the staff author
	Body        string                `json:"body"`
	Media       []conversations.Media `json:"media,omitempty"`
	Job         string                `json:"job,omitempty"`
	ClientID    string                `json:"client_id,omitempty"` // lets the sending device match its optimistic copy
	Status      string                `json:"status"`
	CreatedAt   time.Time             `json:"created_at,omitzero"`
	DeliveredAt time.Time             `json:"delivered_at,omitzero"`
	FailedAt    time.Time             `json:"failed_at,omitzero"`
	ErrorReason string                `json:"error_reason,omitempty"`
}

// NewPayload returns the JSON form of n.
func NewPayload(n conversations.Notification) Payload {
	p := Payload{
		ID: n.ID, Tenant: string(n.Tenant), Recipient: string(n.Recipient), Type: string(n.Type),
		Thread: string(n.Thread), ReadSeq: n.ReadSeq, Badge: n.Badge, Urgent: n.Urgent, At: n.At,
	}
	if m := n.Message; m != nil {
		p.Message = &MessageSummary{
			ID: string(m.ID), Seq: m.Seq, Kind: string(m.Kind), Direction: string(m.Direction), Channel: m.Channel,
			AuthorType: string(m.AuthorType), Author: string(m.Author), Body: m.Body, Media: m.Media,
			Job: string(m.Job), ClientID: m.ClientID, Status: string(m.Status), CreatedAt: m.CreatedAt,
			DeliveredAt: m.DeliveredAt, FailedAt: m.FailedAt, ErrorReason: m.ErrorReason,
		}
	}
	return p
}
