package sendgridtest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"time"
)

// Event is one Event Webhook event. Batch renders it with the fields
// SendGrid sends for its kind.
type Event struct {
	// Event is the kind: "processed", "deferred", "delivered", "bounce",
	// "dropped", "open", "click", "spamreport", "unsubscribe", ...
	Event     string
	Email     string    // the recipient
	Timestamp time.Time // when it happened (sent as Unix seconds)
	// MessageID is the X-Message-Id of the email; sg_message_id is it
	// followed by SendGrid's routing suffix. Empty: no sg_message_id (as
	// in some asynchronous bounces).
	MessageID string
	EventID   string // sg_event_id; empty: a random one

	Type                 string // bounce: "bounce" or "blocked"
	Status               string // bounce, dropped: the SMTP status ("5.1.1")
	Reason               string // bounce: the server's words; dropped: "Bounced Address", ...
	BounceClassification string // bounce: "Invalid Address", "Mailbox Unavailable", ...
	Response             string // delivered, deferred: the server's answer
	Attempt              string // deferred: the attempt number
	URL                  string // click: the link clicked

	// CustomArgs are the email's custom arguments; SendGrid adds them to
	// the event as top-level fields.
	CustomArgs map[string]string
}

// Event returns an event of kind about the email s, at at: its recipient,
// message id and custom arguments filled in from what the Server accepted.
func (s Send) Event(kind string, at time.Time) Event {
	e := Event{Event: kind, Timestamp: at, MessageID: s.MessageID, CustomArgs: map[string]string{}}
	if len(s.Mail.Personalizations) > 0 && len(s.Mail.Personalizations[0].To) > 0 {
		e.Email = s.Mail.Personalizations[0].To[0].Email
	}
	for k, v := range s.Mail.CustomArgs {
		e.CustomArgs[k] = v
	}
	return e
}

// render returns the event as SendGrid's JSON object.
func (e Event) render() map[string]any {
	id := e.EventID
	if id == "" {
		var b [24]byte
		_, _ = rand.Read(b[:])
		id = base64.RawURLEncoding.EncodeToString(b[:])
	}
	o := map[string]any{
		"email":       e.Email,
		"event":       e.Event,
		"sg_event_id": id,
		"timestamp":   e.Timestamp.Unix(),
	}
	if e.MessageID != "" {
		o["sg_message_id"] = e.MessageID + ".recvd-7d4b8c6f5d-x2kqv-1-67BADEEA-1D.0"
		o["smtp-id"] = "<" + e.MessageID + "@geopod-ismtpd-3>"
	}
	set := func(k, v string) {
		if v != "" {
			o[k] = v
		}
	}
	switch e.Event {
	case "delivered":
		set("response", e.Response)
		o["ip"] = "149.72.123.24"
		o["tls"] = 1
	case "deferred":
		set("response", e.Response)
		set("attempt", e.Attempt)
		o["ip"] = "149.72.123.24"
		o["tls"] = 1
	case "bounce":
		set("type", e.Type)
		set("status", e.Status)
		set("reason", e.Reason)
		set("bounce_classification", e.BounceClassification)
		o["ip"] = "149.72.123.24"
		o["tls"] = 1
	case "dropped":
		set("reason", e.Reason)
		set("status", e.Status)
	case "open":
		o["useragent"] = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
		o["ip"] = "66.249.84.1"
		o["sg_machine_open"] = false
	case "click":
		set("url", e.URL)
		o["useragent"] = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)"
		o["ip"] = "66.249.84.1"
	}
	for k, v := range e.CustomArgs {
		if _, taken := o[k]; !taken {
			o[k] = v
		}
	}
	return o
}

// Batch returns the body SendGrid posts for events: a JSON array, with
// "<", ">" and "&" unescaped and a CRLF at the end, as SendGrid's own
// signature test vector has it.
func Batch(events ...Event) []byte {
	objs := make([]map[string]any, len(events))
	for i, e := range events {
		objs[i] = e.render()
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(objs)
	out := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	return append(out, '\r', '\n')
}
