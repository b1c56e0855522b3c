package twilio

import (
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// statuses maps Twilio's message statuses to ours.
// https://www.twilio.com/docs/messaging/api/message-resource#message-status-values
var statuses = map[string]conversations.Status{
	"accepted":            conversations.StatusQueued, // a Messaging Service has it and will pick a sender
	"scheduled":           conversations.StatusQueued,
	"queued":              conversations.StatusQueued,
	"sending":             conversations.StatusSending,
	"sent":                conversations.StatusSent,
	"partially_delivered": conversations.StatusSent,
	"delivered":           conversations.StatusDelivered,
	"read":                conversations.StatusDelivered, // read implies delivered
	"undelivered":         conversations.StatusUndelivered,
	"failed":              conversations.StatusFailed,
	"canceled":            conversations.StatusFailed, // a cancelled scheduled message will never go
	"receiving":           conversations.StatusReceived,
	"received":            conversations.StatusReceived,
}

// mapStatus maps a Twilio status; ok is false for one this code does not know.
func mapStatus(s string) (conversations.Status, bool) {
	st, ok := statuses[s]
	return st, ok
}

// parseTwilioTime reads Twilio's RFC 2822 timestamps ("Mon, 16 Aug 2010
// 03:45:01 +0000").
func parseTwilioTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC1123Z, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// dlrLayout is RawDlrDoneDate's format, YYMMDDhhmm, in UTC.
const dlrLayout = "0601021504"

// parseDlrDate reads RawDlrDoneDate, the time the carrier's delivery
// receipt says the message was done. A value that does not parse, or lies
// more than a day ahead of now (a carrier clock off by a time zone is
// believed; one off by a century is not), is ignored.
func parseDlrDate(s string, now time.Time) (time.Time, bool) {
	if len(s) != len(dlrLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(dlrLayout, s)
	if err != nil || t.After(now.Add(24*time.Hour)) {
		return time.Time{}, false
	}
	return t, true
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
