package sendgrid

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// SendGrid's event names.
// https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
const (
	eventProcessed = "processed"
	eventDeferred  = "deferred"
	eventDelivered = "delivered"
	eventBounce    = "bounce"
	eventDropped   = "dropped"
	eventOpen      = "open"
	eventClick     = "click"
)

// statuses maps the events that say something about delivery to our
// statuses. Why each:
//
//   - processed: SendGrid accepted the email and queued it for delivery;
//     no receiving server has it yet. That is sending (Send's receipt
//     already says queued, and the Service records sending on acceptance),
//     not sent: for SMS, sent means a carrier took the message.
//   - delivered: the recipient's mail server accepted it (250). Email
//     knows nothing later about arrival, so this is delivered.
//   - open, click: the recipient read the email, which proves delivery,
//     as Twilio's read does for SMS. They matter when "delivered" events
//     are not enabled on the webhook, and a late open never moves a
//     bounced message back (statuses only move forward).
//   - bounce (type "bounce" or "blocked"): the receiving server refused
//     it and SendGrid gave up: undelivered, with the SMTP status and the
//     server's reason.
//   - dropped: SendGrid refused to send it at all (a suppressed address,
//     an invalid one, spam content): failed, with SendGrid's reason.
//
// deferred (the receiving server said "later"; SendGrid retries for up to
// 72 hours) changes nothing and is logged. spamreport, unsubscribe and the
// group events concern the recipient, not this message's delivery, and are
// logged too.
var statuses = map[string]conversations.Status{
	eventProcessed: conversations.StatusSending,
	eventDelivered: conversations.StatusDelivered,
	eventOpen:      conversations.StatusDelivered,
	eventClick:     conversations.StatusDelivered,
	eventBounce:    conversations.StatusUndelivered,
	eventDropped:   conversations.StatusFailed,
}

// Limits on what an event may carry into an update.
const (
	maxIDBytes        = 256 // our ids in custom arguments
	maxErrorCodeBytes = 32
)

// event is one event of a batch, with the fields the Webhook reads.
// Custom arguments arrive as top-level fields.
type event struct {
	Event                lenientString `json:"event"`
	Timestamp            lenientString `json:"timestamp"`
	SGMessageID          lenientString `json:"sg_message_id"`
	SGEventID            lenientString `json:"sg_event_id"`
	Reason               lenientString `json:"reason"`
	Status               lenientString `json:"status"`
	Type                 lenientString `json:"type"`
	BounceClassification lenientString `json:"bounce_classification"`
	Response             lenientString `json:"response"`
	Attempt              lenientString `json:"attempt"`
	Message              lenientString `json:"ft_message"`
	Tenant               lenientString `json:"ft_tenant"`
	Thread               lenientString `json:"ft_thread"`
}

// lenientString reads a JSON string, number or boolean as text and null as
// "", so that one field of an unexpected type (SendGrid documents "attempt"
// as a string and sends it as one, but a number would mean the same) does
// not cost the whole event. Objects and arrays are refused.
type lenientString string

func (s *lenientString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return errors.New("empty value")
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = lenientString(v)
	case b[0] == '{' || b[0] == '[':
		return errors.New("an object or array where text belongs")
	case string(b) == "null":
		*s = ""
	default:
		*s = lenientString(b)
	}
	return nil
}

// parsed is what the Webhook does with one event.
type parsed struct {
	ev     event
	update conversations.StatusUpdate
	apply  bool   // update is to be applied
	skip   string // when not applied and not bad: why (for the log)
	bad    error  // when not applied: the event is ours but unusable
}

// parseEvents reads a batch. It fails only when the body is not a JSON
// array of objects; a single event that cannot be read is reported in its
// own parsed.bad (or skipped when it is not ours), so one odd event does
// not hold up the others.
func parseEvents(body []byte) ([]parsed, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, conversations.Invalid("body", "not a JSON array of events")
	}
	out := make([]parsed, 0, len(raws))
	for _, raw := range raws {
		out = append(out, parseEvent(raw))
	}
	return out, nil
}

func parseEvent(raw json.RawMessage) parsed {
	var p parsed
	if err := json.Unmarshal(raw, &p.ev); err != nil {
		// Without the custom arguments there is no telling whether it was
		// ours; a field of the wrong shape is all that failed.
		var ours struct {
			Message lenientString `json:"ft_message"`
			Tenant  lenientString `json:"ft_tenant"`
		}
		if json.Unmarshal(raw, &ours) == nil && ours.Message != "" && ours.Tenant != "" {
			p.bad = conversations.Invalid("event", "unreadable: "+clean(err.Error(), 200))
		} else {
			p.skip = "unreadable and not ours"
		}
		return p
	}
	ev := p.ev
	msg, tenant := string(ev.Message), string(ev.Tenant)
	switch {
	case msg == "" && tenant == "":
		p.skip = "no " + ArgMessage + "/" + ArgTenant + " custom arguments (not sent by fieldtalk)"
		return p
	case msg == "" || tenant == "":
		p.bad = conversations.Invalid("event", "has only one of "+ArgMessage+" and "+ArgTenant)
		return p
	case len(msg) > maxIDBytes || len(tenant) > maxIDBytes:
		p.bad = conversations.Invalid("event", "custom argument ids longer than 256 bytes")
		return p
	}
	status, ok := statuses[string(ev.Event)]
	if !ok {
		p.skip = "event " + strconv.Quote(clean(string(ev.Event), 40)) + " does not change a delivery status"
		return p
	}
	u := conversations.StatusUpdate{
		Tenant:     conversations.TenantID(tenant),
		Message:    conversations.MessageID(msg),
		Channel:    conversations.ChannelEmail,
		ProviderID: providerID(string(ev.SGMessageID)),
		Status:     status,
		At:         eventTime(string(ev.Timestamp)),
	}
	switch string(ev.Event) {
	case eventBounce:
		u.ErrorCode = smtpStatus(string(ev.Status))
		u.ErrorReason = bounceReason(ev)
	case eventDropped:
		u.ErrorCode = smtpStatus(string(ev.Status))
		u.ErrorReason = dropReason(string(ev.Reason))
	}
	p.update, p.apply = u, true
	return p
}

// providerID is the X-Message-Id an event's sg_message_id starts with:
// SendGrid appends "." and its own routing suffix per recipient. An
// asynchronous bounce may have none.
func providerID(sgMessageID string) string {
	id, _, _ := strings.Cut(strings.TrimSpace(sgMessageID), ".")
	if !plausibleID(id) {
		return ""
	}
	return id
}

// eventTime reads an event's timestamp, Unix seconds. A missing or
// unreadable one is zero, which the Service reads as "now".
func eventTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if sec, err := strconv.ParseInt(s, 10, 64); err == nil && sec > 0 && sec < 1<<40 {
		return time.Unix(sec, 0).UTC()
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 && f < 1<<40 {
		return time.Unix(int64(f), 0).UTC()
	}
	return time.Time{}
}

// smtpStatus returns s when it is an enhanced SMTP status (RFC 3463,
// "5.1.1"), the error code a bounce or drop carries, and "" otherwise.
func smtpStatus(s string) string {
	s = strings.TrimSpace(s)
	parts := strings.Split(s, ".")
	if len(s) > maxErrorCodeBytes || len(parts) != 3 {
		return ""
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return ""
		}
	}
	return s
}

// maxServerReasonBytes bounds the receiving server's words in a reason.
const maxServerReasonBytes = 300

// bounceClasses are SendGrid's bounce classifications in a sender's words.
var bounceClasses = map[string]string{
	"Invalid Address":              "the customer's email address does not exist",
	"Mailbox Unavailable":          "the customer's mailbox is unavailable (full, disabled or not accepting mail)",
	"Technical Failure":            "the customer's mail server had a technical failure",
	"Reputation":                   "the customer's mail server refused mail from this sender (sender reputation)",
	"Content":                      "the customer's mail server refused the email's content",
	"Frequency or Volume Too High": "the customer's mail server is limiting how much mail this sender may send",
}

func bounceReason(ev event) string {
	plain, ok := bounceClasses[strings.TrimSpace(string(ev.BounceClassification))]
	if !ok {
		plain = "the customer's mail server refused the email"
		if string(ev.Type) == "blocked" {
			plain = "the customer's mail server blocked the email"
		}
	}
	if said := clean(string(ev.Reason), maxServerReasonBytes); said != "" {
		return plain + " (" + said + ")"
	}
	return plain
}

// dropReasons are SendGrid's reasons for dropping, in a sender's words.
// SendGrid adds detail after some ("Spam Content (if spam checker app
// enabled)"), so they match as prefixes.
var dropReasons = []struct{ prefix, plain string }{
	{"Bounced Address", "SendGrid did not send it: an earlier email to this address bounced, so the address is on the account's bounce list"},
	{"Unsubscribed Address", "SendGrid did not send it: the customer unsubscribed from this business's emails"},
	{"Spam Reporting Address", "SendGrid did not send it: the customer reported an earlier email as spam"},
	{"Invalid SMTPAPI header", "SendGrid did not send it: the request was malformed"},
	{"Invalid", "SendGrid did not send it: the customer's email address is not valid"},
	{"Spam Content", "SendGrid did not send it: its spam checker flagged the content"},
	{"Recipient List over Package Quota", "SendGrid did not send it: the SendGrid plan's recipient quota is used up"},
}

func dropReason(reason string) string {
	reason = strings.TrimSpace(reason)
	for _, d := range dropReasons {
		if strings.HasPrefix(reason, d.prefix) {
			return d.plain
		}
	}
	if said := clean(reason, maxServerReasonBytes); said != "" {
		return "SendGrid did not send it: " + said
	}
	return "SendGrid did not send it"
}
