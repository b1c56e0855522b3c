package sendgrid

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/sendgrid/rest"
	sgmail "github.com/sendgrid/sendgrid-go/helpers/mail"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Custom arguments Send puts on every email. SendGrid repeats them as
// top-level fields of each event about the email, which is how the Webhook
// names the message. They are ids, never personal data: SendGrid keeps
// custom arguments as non-PII.
const (
	ArgMessage = "ft_message"
	ArgTenant  = "ft_tenant"
	ArgThread  = "ft_thread"
)

// Limits Send checks before calling SendGrid.
const (
	// MaxSubjectBytes is RFC 5322's line limit; SendGrid folds the
	// header, but a longer subject is a bug upstream, not a subject.
	MaxSubjectBytes = 998
	// maxAddressBytes is the longest address SMTP can carry (RFC 5321).
	maxAddressBytes = 254
	maxNameBytes    = 256
)

// Channel sends email through SendGrid's v3 Mail Send API. It is safe for
// concurrent use. It is not a conversations.Finder (SendGrid cannot look an
// email up by our id), so an email whose answer was lost is sent again;
// see the package documentation.
type Channel struct {
	api      api
	fromName string
	timeout  time.Duration
	opts     options
}

var _ conversations.Channel = (*Channel)(nil)

// New returns a Channel for the API key in cfg. FromName and Timeout are
// optional. Options: WithLogger, WithClock, WithHTTPClient, WithBaseURL.
func New(cfg Config, opts ...Option) (*Channel, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	invalid := func(err error) (*Channel, error) { return nil, fmt.Errorf("sendgrid: new: %w", err) }
	if !validAPIKey(cfg.APIKey) {
		return invalid(conversations.Invalid("api_key", `not a SendGrid API key ("SG." and the secret, no spaces)`))
	}
	if !validName(cfg.FromName) {
		return invalid(conversations.Invalid("from_name", "not valid UTF-8, too long, or has control characters"))
	}
	c := &Channel{fromName: strings.TrimSpace(cfg.FromName), timeout: cfg.Timeout, opts: o}
	if c.timeout < 0 {
		return invalid(conversations.Invalid("timeout", "negative"))
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	base, err := parseBaseURL(o.baseURL)
	if err != nil {
		return invalid(err)
	}
	c.api = newSDKAPI(cfg.APIKey, base, o.httpClient)
	return c, nil
}

// Name returns conversations.ChannelEmail.
func (c *Channel) Name() string { return conversations.ChannelEmail }

// Send sends out as one email from out.From to out.To and returns
// SendGrid's acceptance: the X-Message-Id and StatusQueued.
//
// out.Subject is required; out.Body goes as text/plain, with a minimal
// HTML rendering of the same text beside it, and out.Media as links after
// the text. out.MessagingService is an SMS notion and is ignored. An
// invalid address, subject, body or media is an error wrapping
// conversations.ErrInvalid, and SendGrid is not called. A failed call is a
// *conversations.ProviderError (see the package documentation for the
// classes). ctx bounds the call, as does Config.Timeout; when it ends, the
// error wraps ctx's error.
func (c *Channel) Send(ctx context.Context, out conversations.Outbound) (conversations.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return conversations.Receipt{}, c.classify(ctx, nil, err)
	}
	m, err := c.message(out)
	if err != nil {
		return conversations.Receipt{}, fmt.Errorf("sendgrid: send: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.api.sendMail(ctx, m)
	if resp == nil && err == nil {
		err = &callError{err: errors.New("no answer and no error")}
	}
	if resp != nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return c.accepted(ctx, out, resp), nil
	}
	pe := c.classify(ctx, resp, err)
	c.opts.logger.LogAttrs(ctx, slog.LevelWarn, "sendgrid: send failed",
		slog.String("tenant", string(out.Tenant)), slog.String("message", string(out.Message)),
		slog.String("class", pe.Class.String()), slog.Int("http_status", pe.HTTPStatus),
		slog.String("reason", pe.Reason), conversations.ErrorAttr(pe.Err))
	return conversations.Receipt{}, pe
}

// accepted turns a 2xx answer into a Receipt. SendGrid answers Mail Send
// with 202 and the message id in X-Message-Id, and stamps the answer with
// Date, its acceptance time. In sandbox mode it answers 200 with no id:
// the email was accepted all the same (resending would not help), so the
// receipt has no ProviderID, and the first event, which carries our
// message id, brings SendGrid's.
func (c *Channel) accepted(ctx context.Context, out conversations.Outbound, resp *rest.Response) conversations.Receipt {
	h := http.Header(resp.Headers)
	r := conversations.Receipt{Status: conversations.StatusQueued}
	if id := strings.TrimSpace(h.Get("X-Message-Id")); plausibleID(id) {
		r.ProviderID = id
	} else {
		c.opts.logger.LogAttrs(ctx, slog.LevelWarn, "sendgrid: accepted without a usable X-Message-Id",
			slog.String("tenant", string(out.Tenant)), slog.String("message", string(out.Message)),
			slog.Int("http_status", resp.StatusCode))
	}
	if at, err := http.ParseTime(h.Get("Date")); err == nil {
		r.At = at.UTC()
	} else {
		r.At = c.opts.now().UTC()
	}
	c.opts.logger.LogAttrs(ctx, slog.LevelDebug, "sendgrid: sent",
		slog.String("tenant", string(out.Tenant)), slog.String("message", string(out.Message)),
		slog.String("x_message_id", r.ProviderID))
	return r
}

// message checks out and turns it into the SDK's Mail Send body.
func (c *Channel) message(out conversations.Outbound) (*sgmail.SGMailV3, error) {
	switch {
	case out.Tenant == "":
		return nil, conversations.Invalid("tenant", "empty")
	case out.Message == "":
		return nil, conversations.Invalid("message", "empty")
	case out.Channel != "" && out.Channel != conversations.ChannelEmail:
		return nil, conversations.Invalid("channel", fmt.Sprintf("%q is not %q", out.Channel, conversations.ChannelEmail))
	}
	from, err := parseAddress("from", out.From)
	if err != nil {
		return nil, err
	}
	to, err := parseAddress("to", out.To)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(from.Address, to.Address) {
		return nil, conversations.Invalid("to", "the business's own address")
	}
	subject := strings.TrimSpace(out.Subject)
	switch {
	case subject == "":
		return nil, conversations.Invalid("subject", "empty (an email needs one)")
	case len(subject) > MaxSubjectBytes:
		return nil, conversations.Invalid("subject", fmt.Sprintf("longer than %d bytes", MaxSubjectBytes))
	}
	// The characters a subject may hold are conversations' rule for a line.
	if err := conversations.CheckLine("subject", subject, MaxSubjectBytes); err != nil {
		return nil, err
	}
	if err := out.CheckContent(); err != nil {
		return nil, err
	}

	name := from.Name
	if name == "" {
		name = c.fromName
	}
	m := sgmail.NewV3Mail()
	m.SetFrom(sgmail.NewEmail(name, from.Address))
	m.Subject = subject
	p := sgmail.NewPersonalization()
	p.AddTos(sgmail.NewEmail(to.Name, to.Address))
	m.AddPersonalizations(p)
	// text/plain first: SendGrid requires it before text/html.
	m.AddContent(sgmail.NewContent("text/plain", textBody(out.Body, out.Media)),
		sgmail.NewContent("text/html", htmlBody(out.Body, out.Media)))
	m.SetCustomArg(ArgMessage, string(out.Message))
	m.SetCustomArg(ArgTenant, string(out.Tenant))
	if out.Thread != "" {
		m.SetCustomArg(ArgThread, string(out.Thread))
	}
	return m, nil
}

// parseAddress reads one address, with or without a display name, and
// refuses what cannot reach an Internet mailbox (no dot in the domain, an
// address literal) before SendGrid is asked.
func parseAddress(field, s string) (*mail.Address, error) {
	if strings.TrimSpace(s) == "" {
		return nil, conversations.Invalid(field, "empty")
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, conversations.Invalid(field, "not an email address")
	}
	at := strings.LastIndexByte(a.Address, '@')
	domain := a.Address[at+1:]
	switch {
	case len(a.Address) > maxAddressBytes:
		return nil, conversations.Invalid(field, "longer than 254 bytes")
	case strings.HasPrefix(domain, "[") || !strings.Contains(domain, ".") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, ".."):
		return nil, conversations.Invalid(field, "the domain is not an Internet domain")
	case !validName(a.Name):
		return nil, conversations.Invalid(field, "the display name is too long or has control characters")
	}
	return a, nil
}

func validName(s string) bool {
	return len(s) <= maxNameBytes && conversations.CheckLine("name", s, maxNameBytes) == nil
}

// plausibleID reports whether s can be a SendGrid message id: short,
// printable, without the "." that starts an event's sg_message_id suffix.
func plausibleID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; b <= ' ' || b > '~' || b == '.' {
			return false
		}
	}
	return true
}
