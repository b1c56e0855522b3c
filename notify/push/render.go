package push

import (
	"unicode/utf8"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Push is what one notification becomes on a phone. A Push with an empty
// Title and Body is silent: it updates the badge (and lets the app refresh)
// without showing anything.
type Push struct {
	Title string
	Body  string
}

// Silent reports whether p shows nothing.
func (p Push) Silent() bool { return p.Title == "" && p.Body == "" }

// Renderer turns a notification into a Push; false means no push at all.
// Hosts that know their customers' names or want their own wording supply
// one (WithRenderer), and may fall back to DefaultRender.
type Renderer func(n conversations.Notification) (Push, bool)

// MaxBodyRunes bounds a rendered push body; phones cut it shorter anyway.
const MaxBodyRunes = 200

// DefaultRender shows what someone needs to act on and stays silent
// otherwise:
//
//   - a new inbound or internal message, or an escalation, is shown, with the
//     message text;
//   - a colleague's outbound message or an automated one updates the badge
//     silently;
//   - a message of the recipient's that could not be delivered is shown;
//     other status changes send nothing;
//   - a read on another device, a change of what the recipient may see
//     (an assignment, an archived thread), or a change of their
//     preferences or mutes updates the badge silently.
//
// Whatever the Renderer returns, a notification the recipient's preferences
// mark Silent only updates the badge, and a hidden preview shows
// HiddenTitle only (see Notification.Silent and Notification.Preview).
func DefaultRender(n conversations.Notification) (Push, bool) {
	m := n.Message
	switch n.Type {
	case conversations.EventMessage:
		if m == nil {
			return Push{Title: "New message"}, true
		}
		switch {
		case m.Kind == conversations.KindEscalation && (n.Urgent || m.Urgent):
			return Push{Title: "Urgent: a customer needs a person", Body: text(m)}, true
		case m.Kind == conversations.KindEscalation:
			return Push{Title: "A customer was handed to the team", Body: text(m)}, true
		case m.Kind == conversations.KindInternal:
			return Push{Title: "Team message", Body: text(m)}, true
		case m.Direction == conversations.DirectionInbound:
			title := "New message"
			if m.From != "" {
				title = "Message from " + m.From
			}
			return Push{Title: title, Body: text(m)}, true
		}
		return Push{}, true
	case conversations.EventStatus:
		if m == nil || (m.Status != conversations.StatusFailed && m.Status != conversations.StatusUndelivered) {
			return Push{}, false
		}
		body := m.ErrorReason
		if body == "" {
			body = text(m)
		}
		title := "Message not delivered"
		if m.To != "" {
			title += " to " + m.To
		}
		return Push{Title: title, Body: body}, true
	case conversations.EventRead, conversations.EventBadge, conversations.EventPreferences:
		return Push{}, true
	}
	return Push{}, false
}

// text is a message's body cut to MaxBodyRunes, or a word for an
// attachment-only message.
func text(m *conversations.Message) string {
	body := m.Body
	if body == "" && len(m.Media) > 0 {
		return "Sent an attachment"
	}
	if utf8.RuneCountInString(body) <= MaxBodyRunes {
		return body
	}
	n := 0
	for i := range body {
		if n == MaxBodyRunes-1 {
			return body[:i] + "…"
		}
		n++
	}
	return body
}
