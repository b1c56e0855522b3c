package host

import (
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// The JSON the mobile app sees. The domain types carry no JSON tags (the
// wire format is the host's to choose), so the API spells its own.

type contactJSON struct {
	Phone string `json:"phone,omitempty"`
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
	Ref   string `json:"ref,omitempty"`
}

type threadJSON struct {
	ID             conversations.ThreadID   `json:"id"`
	Kind           conversations.ThreadKind `json:"kind"`
	BusinessNumber string                   `json:"business_number,omitempty"`
	Contact        *contactJSON             `json:"contact,omitempty"`
	Subject        string                   `json:"subject,omitempty"`
	CreatedAt      time.Time                `json:"created_at"`
	CreatedBy      conversations.StaffID    `json:"created_by,omitempty"`
	LastMessageAt  time.Time                `json:"last_message_at"`
	LastSeq        int64                    `json:"last_seq"`
	Preview        string                   `json:"preview"`
	Archived       bool                     `json:"archived,omitempty"`
	Participants   []conversations.StaffID  `json:"participants,omitempty"`
	Jobs           []conversations.JobID    `json:"jobs,omitempty"`
	Assignees      []conversations.StaffID  `json:"assignees,omitempty"`
	Unread         int64                    `json:"unread"`
}

func toThread(t conversations.Thread) threadJSON {
	j := threadJSON{
		ID: t.ID, Kind: t.Kind, BusinessNumber: t.BusinessNumber, Subject: t.Subject,
		CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy, LastMessageAt: t.LastMessageAt, LastSeq: t.LastSeq,
		Preview: t.Preview, Archived: t.Archived, Participants: t.Participants, Jobs: t.Jobs,
		Assignees: t.Assignees, Unread: t.Unread,
	}
	if c := t.Contact; c != (conversations.Contact{}) {
		j.Contact = &contactJSON{Phone: c.Phone, Email: c.Email, Name: c.Name, Ref: c.Ref}
	}
	return j
}

type messageJSON struct {
	ID          conversations.MessageID  `json:"id"`
	Thread      conversations.ThreadID   `json:"thread"`
	Seq         int64                    `json:"seq"`
	Kind        conversations.Kind       `json:"kind"`
	Direction   conversations.Direction  `json:"direction"`
	Channel     string                   `json:"channel"`
	AuthorType  conversations.AuthorType `json:"author_type"`
	Author      conversations.StaffID    `json:"author,omitempty"`
	Body        string                   `json:"body"`
	Subject     string                   `json:"subject,omitempty"`
	Details     string                   `json:"details,omitempty"`
	Urgent      bool                     `json:"urgent,omitempty"`
	Media       []conversations.Media    `json:"media,omitempty"`
	Job         conversations.JobID      `json:"job,omitempty"`
	Source      conversations.Source     `json:"source,omitempty"`
	ClientID    string                   `json:"client_id,omitempty"`
	From        string                   `json:"from,omitempty"`
	To          string                   `json:"to,omitempty"`
	CreatedAt   time.Time                `json:"created_at"`
	Status      conversations.Status     `json:"status"`
	SentAt      time.Time                `json:"sent_at,omitzero"`
	DeliveredAt time.Time                `json:"delivered_at,omitzero"`
	FailedAt    time.Time                `json:"failed_at,omitzero"`
	ProviderID  string                   `json:"provider_id,omitempty"`
	ErrorCode   string                   `json:"error_code,omitempty"`
	ErrorReason string                   `json:"error_reason,omitempty"`
}

func toMessage(m conversations.Message) messageJSON {
	return messageJSON{
		ID: m.ID, Thread: m.Thread, Seq: m.Seq, Kind: m.Kind, Direction: m.Direction, Channel: m.Channel,
		AuthorType: m.AuthorType, Author: m.Author, Body: m.Body, Subject: m.Subject, Details: m.Details,
		Urgent: m.Urgent, Media: m.Media, Job: m.Job, Source: m.Source, ClientID: m.ClientID, From: m.From,
		To: m.To, CreatedAt: m.CreatedAt, Status: m.Status, SentAt: m.SentAt, DeliveredAt: m.DeliveredAt,
		FailedAt: m.FailedAt, ProviderID: m.ProviderID, ErrorCode: m.ErrorCode, ErrorReason: m.ErrorReason,
	}
}

type draftJSON struct {
	ID        conversations.DraftID  `json:"id"`
	Thread    conversations.ThreadID `json:"thread,omitempty"`
	To        string                 `json:"to,omitempty"`
	Job       conversations.JobID    `json:"job,omitempty"`
	Body      string                 `json:"body"`
	Media     []conversations.Media  `json:"media,omitempty"`
	ClientID  string                 `json:"client_id"`
	Version   int64                  `json:"version"`
	CreatedAt time.Time              `json:"created_at"`
	UpdatedAt time.Time              `json:"updated_at"`
}

func toDraft(d conversations.Draft) draftJSON {
	return draftJSON{
		ID: d.ID, Thread: d.Thread, To: d.To, Job: d.Job, Body: d.Body, Media: d.Media,
		ClientID: d.ClientID, Version: d.Version, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
}

type suggestionJSON struct {
	ID         conversations.SuggestionID    `json:"id"`
	Thread     conversations.ThreadID        `json:"thread"`
	ForMessage conversations.MessageID       `json:"for_message"`
	Text       string                        `json:"text"`
	Intent     conversations.Intent          `json:"intent"`
	Confidence float64                       `json:"confidence"`
	Urgent     bool                          `json:"urgent,omitempty"`
	Source     string                        `json:"source"`
	State      conversations.SuggestionState `json:"state"`
}

func toSuggestion(s conversations.Suggestion) suggestionJSON {
	return suggestionJSON{
		ID: s.ID, Thread: s.Thread, ForMessage: s.ForMessage, Text: s.Text, Intent: s.Intent,
		Confidence: s.Confidence, Urgent: s.Urgent, Source: s.Source, State: s.State,
	}
}

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
