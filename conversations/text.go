package conversations

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// All text that enters the library is checked here, once: the Service calls
// these on every input, and adapters (channels, the store's device table)
// call the same functions instead of keeping copies of the rules. A NUL byte
// in particular must never reach a database: PostgreSQL refuses it in text
// (SQLSTATE 22021) and SQLite would store a string other tools cut short.

// Limits on text, besides the message limits in message.go. Lengths are in
// characters (runes).
const (
	MaxIDRunes      = 200  // any id a caller names: tenant, staff, thread, job, draft, suggestion, message, provider id, client id, key
	MaxNameRunes    = 200  // a person's or a business's name, a contact's CRM reference
	MaxAddressRunes = 320  // a phone number or an email address (RFC 5321's bound)
	MaxTokenRunes   = 4096 // a push device token (FCM's are about 160, a web-push endpoint a few hundred)
	MaxReasonRunes  = 500  // a provider's error reason, kept with a failed message
)

// CheckLine reports a *FieldError for field unless s is valid UTF-8 without
// control characters of any kind (no NUL, tab or line break), of at most max
// characters. Ids, names, client ids, subjects and tokens are lines. An empty
// s passes: whether a field is required is the caller's rule.
func CheckLine(field, s string, max int) error {
	return checkText(field, s, max, false)
}

// CheckText reports a *FieldError for field unless s is valid UTF-8 whose
// only control characters are tab, newline and carriage return, of at most
// max characters. Message bodies and transcripts are texts.
func CheckText(field, s string, max int) error {
	return checkText(field, s, max, true)
}

func checkText(field, s string, max int, multiline bool) error {
	if !utf8.ValidString(s) {
		return Invalid(field, "not valid UTF-8")
	}
	n := 0
	for _, r := range s {
		n++
		if unicode.IsControl(r) && !(multiline && (r == '\t' || r == '\n' || r == '\r')) {
			if r == 0 {
				return Invalid(field, "contains a NUL character")
			}
			return Invalid(field, "contains a control character")
		}
	}
	if n > max {
		return Invalid(field, "longer than "+strconv.Itoa(max)+" characters")
	}
	return nil
}

// checkID checks an id a call requires.
func checkID[T ~string](field string, id T) error {
	if id == "" {
		return Invalid(field, "empty")
	}
	return CheckLine(field, string(id), MaxIDRunes)
}

// checkOptionalID checks an id a call may leave empty.
func checkOptionalID[T ~string](field string, id T) error {
	return CheckLine(field, string(id), MaxIDRunes)
}

// CleanText returns text a provider delivered as the library keeps it:
// invalid UTF-8 replaced by U+FFFD, and control characters other than tab,
// newline and carriage return removed.
//
// A customer's message is cleaned, not refused, because refusing it would
// lose it: the provider does not resend a webhook the host refused as
// malformed, and the customer never learns their text did not arrive. A
// stray control character (a NUL some phones append, a form feed pasted from
// elsewhere) carries no meaning a person could read, so dropping it keeps all
// of the message that matters. Text from API clients is refused instead
// (CheckText): they can correct and resend it.
func CleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if !strings.ContainsFunc(s, isStrayControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isStrayControl(r) {
			return -1
		}
		return r
	}, s)
}

func isStrayControl(r rune) bool {
	return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r'
}

// ContentRules adjust what ValidateContent accepts.
type ContentRules struct {
	// AllowEmpty accepts a blank body without media (a draft, a customer's
	// empty SMS).
	AllowEmpty bool
	// AllowHTTPMedia accepts http:// media URLs besides https://, for a
	// development host serving media without TLS. Never in production: a
	// provider fetching plain http can be served something else.
	AllowHTTPMedia bool
}

// ValidateContent checks a message's body and media: the body is text
// (CheckText) of at most MaxBodyRunes characters, not blank unless r allows
// it or there is media; at most MaxMediaItems media, each with a URL that
// ValidateMediaURL accepts and a content type that is a line. Errors are
// *FieldError, which wraps ErrInvalid. The Service checks every message with
// it, and every Channel checks what it is handed with it again.
func ValidateContent(body string, media []Media, r ContentRules) error {
	if err := CheckText("body", body, MaxBodyRunes); err != nil {
		return err
	}
	if !r.AllowEmpty && len(media) == 0 && isBlank(body) {
		return Invalid("body", "empty")
	}
	if len(media) > MaxMediaItems {
		return Invalid("media", "more than "+strconv.Itoa(MaxMediaItems)+" items")
	}
	for _, m := range media {
		if err := ValidateMediaURL(m.URL, r.AllowHTTPMedia); err != nil {
			return err
		}
		if err := CheckLine("media.content_type", m.ContentType, 255); err != nil {
			return err
		}
	}
	return nil
}

// ValidateMediaURL checks that u is an absolute https URL with a host (or
// http, when allowHTTP) of at most MaxURLLength bytes: a URL a provider can
// fetch, and never a file, data or other scheme that would have it read
// something else.
func ValidateMediaURL(u string, allowHTTP bool) error {
	if u == "" {
		return Invalid("media.url", "empty")
	}
	if len(u) > MaxURLLength {
		return Invalid("media.url", "longer than "+strconv.Itoa(MaxURLLength)+" bytes")
	}
	if err := CheckLine("media.url", u, MaxURLLength); err != nil {
		return err
	}
	p, err := url.Parse(u)
	switch {
	case err != nil || p.Host == "" || p.Opaque != "":
		return Invalid("media.url", "not an absolute URL with a host")
	case p.Scheme == "https", p.Scheme == "http" && allowHTTP:
		return nil
	case p.Scheme == "http":
		return Invalid("media.url", "http is not accepted: use https")
	}
	return Invalid("media.url", "only https URLs are accepted")
}

func isBlank(s string) bool {
	for _, r := range s {
		switch r {
		case ' ', '\t', '\n', '\r', '\u00a0', '\u200b':
		default:
			return false
		}
	}
	return true
}

// checkContent checks a message's content with the Service's media rule.
func (s *core) checkContent(body string, media []Media, allowEmpty bool) error {
	return ValidateContent(body, media, ContentRules{AllowEmpty: allowEmpty, AllowHTTPMedia: s.httpMedia})
}

// checkRefs checks the ids a send or a draft names: the thread, the
// device's client id, the job and the draft, each optional here.
func checkRefs(thread ThreadID, clientID string, job JobID, draft DraftID) error {
	return firstError(
		checkOptionalID("thread", thread),
		checkOptionalID("client_id", clientID),
		checkOptionalID("job", job),
		checkOptionalID("draft", draft),
	)
}

// firstError returns the first of errs that is not nil: a call's checks in
// the order its fields are documented.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (in SendSMS) checkRefs() error { return checkRefs(in.Thread, in.ClientID, in.Job, in.Draft) }

// checkContact checks the text of a contact; which of phone and email a
// call needs is its own rule.
func checkContact(c Contact) error {
	return firstError(
		CheckLine("contact.phone", c.Phone, MaxAddressRunes),
		CheckLine("contact.email", c.Email, MaxAddressRunes),
		CheckLine("contact.name", c.Name, MaxNameRunes),
		CheckLine("contact.ref", c.Ref, MaxIDRunes),
	)
}

func (e Escalation) check() error {
	return firstError(
		checkID("tenant", e.Tenant),
		checkContact(e.Contact),
		checkOptionalID("job", e.Job),
		checkOptionalID("key", e.Key),
		CheckText("summary", e.Summary, MaxBodyRunes),
		CheckText("reason", e.Reason, MaxBodyRunes),
		CheckText("transcript", e.Transcript, MaxDetailsLen),
	)
}

func (u StatusUpdate) check() error {
	return firstError(
		checkID("tenant", u.Tenant),
		checkOptionalID("message", u.Message),
		checkOptionalID("provider_id", u.ProviderID),
		CheckLine("channel", u.Channel, MaxIDRunes),
		CheckLine("error_code", u.ErrorCode, MaxIDRunes),
	)
}

func (in InboundMessage) check() error {
	return firstError(
		checkOptionalID("tenant", in.Tenant),
		checkID("provider_id", in.ProviderID),
		CheckLine("business_number", in.BusinessNumber, MaxAddressRunes),
		CheckLine("from", in.From, MaxAddressRunes),
	)
}

func (in WorkflowMessage) check() error {
	return firstError(
		checkID("tenant", in.Tenant),
		checkContact(in.Contact),
		checkOptionalID("job", in.Job),
		checkOptionalID("key", in.Key),
		CheckLine("subject", in.Subject, MaxSubjectBytes),
	)
}

// cleanReason keeps a provider's error reason as text (CleanText: it is the
// provider's wording, kept to show the sender, not input to refuse), on one
// line and at most MaxReasonRunes characters.
func cleanReason(s string) string {
	s = strings.Join(strings.Fields(CleanText(s)), " ")
	if utf8.RuneCountInString(s) <= MaxReasonRunes {
		return s
	}
	return string([]rune(s)[:MaxReasonRunes])
}

// checkStaffIDs checks a non-empty list of staff ids.
func checkStaffIDs(staff []StaffID) error {
	if len(staff) == 0 {
		return Invalid("staff", "none given")
	}
	for _, id := range staff {
		if err := checkID("staff", id); err != nil {
			return err
		}
	}
	return nil
}

func (in StartInternal) check() error {
	if err := CheckLine("subject", in.Subject, MaxSubjectRunes); err != nil {
		return err
	}
	for _, p := range in.Participants {
		if err := checkID("participants", p); err != nil {
			return err
		}
	}
	return checkOptionalID("job", in.Job)
}

// CheckContent is the check a Channel makes of what it is handed
// (ValidateContent). It accepts http media URLs: the Service applied the
// host's rule on http when it accepted the message (Config.AllowHTTPMedia),
// and a channel refusing later what was accepted would fail a message the
// sender was told is on its way. Every other rule holds.
func (out Outbound) CheckContent() error {
	return ValidateContent(out.Body, out.Media, ContentRules{AllowHTTPMedia: true})
}
