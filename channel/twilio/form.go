package twilio

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fieldtalk/fieldtalk/channel"
	"github.com/fieldtalk/fieldtalk/conversations"
)

// parseInbound reads Twilio's incoming-message webhook form. The result has
// no Tenant yet (the To number decides it). Every error wraps
// conversations.ErrInvalid.
// maxContentTypeRunes bounds a media item's content type (RFC 6838 allows
// 127 characters for each of type and subtype).
const maxContentTypeRunes = 255

func parseInbound(form url.Values, region string, now time.Time) (conversations.InboundMessage, error) {
	sid := first(form, "MessageSid", "SmsMessageSid", "SmsSid")
	if !plausibleSID(sid) {
		return conversations.InboundMessage{}, conversations.Invalid("MessageSid", "missing or not a Twilio sid")
	}
	to, err := channel.ParsePhone(form.Get("To"), region)
	if err != nil {
		return conversations.InboundMessage{}, fmt.Errorf("To: %w", err)
	}
	from, err := channel.ParsePhone(form.Get("From"), region)
	if err != nil {
		// Short codes and channel addresses (whatsapp:...) have no
		// customer thread to go to.
		return conversations.InboundMessage{}, fmt.Errorf("From: %w", err)
	}
	// The body is the customer's text: Service.Receive keeps it, cleaned of
	// what no person typed (conversations.CleanText), rather than refusing it.
	body := form.Get("Body")
	if utf8.RuneCountInString(body) > conversations.MaxBodyRunes {
		return conversations.InboundMessage{}, conversations.Invalid("Body", "longer than 1600 characters")
	}
	n := 0
	if v := form.Get("NumMedia"); v != "" {
		n, err = strconv.Atoi(v)
		if err != nil || n < 0 || n > conversations.MaxMediaItems {
			return conversations.InboundMessage{}, conversations.Invalid("NumMedia", "not a number from 0 to 10")
		}
	}
	var media []conversations.Media
	for i := range n {
		u := form.Get("MediaUrl" + strconv.Itoa(i))
		if err := conversations.ValidateMediaURL(u, false); err != nil {
			return conversations.InboundMessage{}, fmt.Errorf("MediaUrl%d: %w", i, err)
		}
		ct := form.Get("MediaContentType" + strconv.Itoa(i))
		if err := conversations.CheckLine(fmt.Sprintf("MediaContentType%d", i), ct, maxContentTypeRunes); err != nil {
			return conversations.InboundMessage{}, err
		}
		media = append(media, conversations.Media{URL: u, ContentType: ct})
	}
	return conversations.InboundMessage{
		Channel:        conversations.ChannelSMS,
		BusinessNumber: to,
		From:           from,
		Body:           body,
		Media:          media,
		ProviderID:     sid,
		ReceivedAt:     now.UTC(),
	}, nil
}

// statusCallback is a parsed status-callback form.
type statusCallback struct {
	update conversations.StatusUpdate
	from   string // the business number, to find the tenant when the URL lacks it
	known  bool   // the status is one a callback may move a message to
}

// parseStatus reads Twilio's status-callback form and the query of the
// callback URL (our message id and tenant). Every error wraps
// conversations.ErrInvalid.
func parseStatus(form, query url.Values, region string, now time.Time) (statusCallback, error) {
	sid := first(form, "MessageSid", "SmsSid")
	if !plausibleSID(sid) {
		return statusCallback{}, conversations.Invalid("MessageSid", "missing or not a Twilio sid")
	}
	raw := first(form, "MessageStatus", "SmsStatus")
	if raw == "" {
		return statusCallback{}, conversations.Invalid("MessageStatus", "missing")
	}
	st, known := mapStatus(raw)
	// A status callback reports on a message we sent; "received" would
	// outrank every outbound status and must never be applied to one.
	known = known && st != conversations.StatusReceived
	u := conversations.StatusUpdate{
		Tenant:     conversations.TenantID(query.Get(QueryTenant)),
		Message:    conversations.MessageID(query.Get(QueryMessage)),
		Channel:    conversations.ChannelSMS,
		ProviderID: sid,
		Status:     st,
		At:         now.UTC(),
	}
	if t, ok := parseDlrDate(form.Get("RawDlrDoneDate"), now); ok {
		u.At = t
	}
	if code := form.Get("ErrorCode"); code != "" && code != "0" {
		if len(code) > 10 || strings.Trim(code, "0123456789") != "" {
			return statusCallback{}, conversations.Invalid("ErrorCode", "not a number")
		}
		u.ErrorCode = code
		u.ErrorReason = reasonFor(code)
		if u.ErrorReason == "" {
			u.ErrorReason = "Twilio error " + code
		}
	}
	cb := statusCallback{update: u, known: known}
	if f := form.Get("From"); f != "" {
		if from, err := channel.ParsePhone(f, region); err == nil {
			cb.from = from
		}
	}
	return cb, nil
}

func first(form url.Values, keys ...string) string {
	for _, k := range keys {
		if v := form.Get(k); v != "" {
			return v
		}
	}
	return ""
}
