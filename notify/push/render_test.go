package push_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/notify/push"
)

func TestDefaultRender(t *testing.T) {
	msg := func(kind conversations.Kind, dir conversations.Direction, body string) *conversations.Message {
		return &conversations.Message{Kind: kind, Direction: dir, Body: body, From: "+15005550101", To: "+15005550202"}
	}
	long := strings.Repeat("é", 300)
	for _, tc := range []struct {
		name string
		n    conversations.Notification
		want push.Push
		send bool
	}{
		{"an inbound text is shown",
			conversations.Notification{Type: conversations.EventMessage, Message: msg(conversations.KindCustomerSMS, conversations.DirectionInbound, "Running late?")},
			push.Push{Title: "Message from +15005550101", Body: "Running late?"}, true},
		{"a team message is shown",
			conversations.Notification{Type: conversations.EventMessage, Message: msg(conversations.KindInternal, conversations.DirectionOutbound, "Can you take the 3pm?")},
			push.Push{Title: "Team message", Body: "Can you take the 3pm?"}, true},
		{"an escalation is shown as urgent",
			conversations.Notification{Type: conversations.EventMessage, Urgent: true, Message: msg(conversations.KindEscalation, conversations.DirectionInbound, "Water everywhere")},
			push.Push{Title: "Urgent: a customer needs a person", Body: "Water everywhere"}, true},
		{"an escalation that is not urgent is not shown as urgent",
			conversations.Notification{Type: conversations.EventMessage, Message: msg(conversations.KindEscalation, conversations.DirectionInbound, "Wants a quote")},
			push.Push{Title: "A customer was handed to the team", Body: "Wants a quote"}, true},
		{"a badge change is silent",
			conversations.Notification{Type: conversations.EventBadge, Badge: 3},
			push.Push{}, true},
		{"a colleague's outbound text only moves the badge",
			conversations.Notification{Type: conversations.EventMessage, Message: msg(conversations.KindCustomerSMS, conversations.DirectionOutbound, "On my way")},
			push.Push{}, true},
		{"a photo without text",
			conversations.Notification{Type: conversations.EventMessage, Message: &conversations.Message{Kind: conversations.KindCustomerSMS, Direction: conversations.DirectionInbound, Media: []conversations.Media{{URL: "https://x/y.jpg"}}}},
			push.Push{Title: "New message", Body: "Sent an attachment"}, true},
		{"a long text is cut",
			conversations.Notification{Type: conversations.EventMessage, Message: msg(conversations.KindInternal, conversations.DirectionOutbound, long)},
			push.Push{Title: "Team message", Body: strings.Repeat("é", push.MaxBodyRunes-1) + "…"}, true},
		{"a failed delivery is shown to its sender",
			conversations.Notification{Type: conversations.EventStatus, Message: &conversations.Message{Status: conversations.StatusFailed, To: "+15005550202", ErrorReason: "The number cannot receive texts"}},
			push.Push{Title: "Message not delivered to +15005550202", Body: "The number cannot receive texts"}, true},
		{"a delivery report sends nothing",
			conversations.Notification{Type: conversations.EventStatus, Message: &conversations.Message{Status: conversations.StatusDelivered}},
			push.Push{}, false},
		{"a read is a silent badge update",
			conversations.Notification{Type: conversations.EventRead, ReadSeq: 3},
			push.Push{}, true},
		{"an unknown event sends nothing",
			conversations.Notification{Type: "typing"},
			push.Push{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, send := push.DefaultRender(tc.n)
			assert.Equal(t, tc.send, send)
			assert.Equal(t, tc.want, got)
			assert.LessOrEqual(t, utf8.RuneCountInString(got.Body), push.MaxBodyRunes)
		})
	}
}
