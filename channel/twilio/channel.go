package twilio

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/fieldtalk/fieldtalk/channel"
	"github.com/fieldtalk/fieldtalk/conversations"
)

// Query parameters Send adds to the status callback URL, which the Status
// handler reads back. Twilio signs the URL with them, so they cannot be forged.
const (
	QueryMessage = "ft_message"
	QueryTenant  = "ft_tenant"
)

// Channel sends SMS and MMS through Twilio. It is safe for concurrent use.
type Channel struct {
	api      api
	callback *url.URL // nil: no status callbacks
	timeout  time.Duration
	checkAge time.Duration
	opts     options
}

var (
	_ conversations.Channel       = (*Channel)(nil)
	_ conversations.StatusFetcher = (*Channel)(nil)
)

// New returns a Channel for the account in cfg. It needs AccountSID and
// either AuthToken or APIKeySID and APIKeySecret; StatusCallbackURL and
// Timeout are optional. Options: WithLogger, WithClock, WithHTTPClient,
// WithBaseURL, WithRegion.
func New(cfg Config, opts ...Option) (*Channel, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	invalid := func(err error) (*Channel, error) { return nil, fmt.Errorf("twilio: new: %w", err) }
	if !validSID(cfg.AccountSID, "AC") {
		return invalid(conversations.Invalid("account_sid", "not a Twilio account sid (AC and 32 hex digits)"))
	}
	user, pass := cfg.AccountSID, cfg.AuthToken
	if cfg.APIKeySID != "" {
		if !validSID(cfg.APIKeySID, "SK") {
			return invalid(conversations.Invalid("api_key_sid", "not a Twilio API key sid (SK and 32 hex digits)"))
		}
		user, pass = cfg.APIKeySID, cfg.APIKeySecret
	}
	// The SDK refuses anything else, after the request is built; say so now.
	if pass == "" || !alphanumeric(pass) {
		return invalid(conversations.Invalid("auth_token", "empty or not alphanumeric"))
	}
	c := &Channel{timeout: cfg.Timeout, opts: o}
	if c.timeout < 0 {
		return invalid(conversations.Invalid("timeout", "negative"))
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	switch c.checkAge = cfg.StatusCheckAfter; {
	case c.checkAge == 0:
		c.checkAge = DefaultStatusCheckAfter
	case c.checkAge < 0:
		c.checkAge = 0
	}
	if cfg.StatusCallbackURL != "" {
		u, err := parseHTTPURL("status_callback_url", cfg.StatusCallbackURL)
		if err != nil {
			return invalid(err)
		}
		if strings.Contains(u.Hostname(), "_") {
			// Twilio rejects such callback URLs on every send.
			return invalid(conversations.Invalid("status_callback_url", "Twilio does not accept underscores in the host name"))
		}
		c.callback = u
	}
	base, err := parseHTTPURL("base_url", o.baseURL)
	if err != nil {
		return invalid(err)
	}
	next, timeout := http.RoundTripper(nil), time.Duration(0)
	if o.httpClient != nil {
		next, timeout = o.httpClient.Transport, o.httpClient.Timeout
	}
	if next == nil {
		next = newTransport()
	}
	c.api = &sdkAPI{accountSID: cfg.AccountSID, username: user, password: pass, base: base, next: next, timeout: timeout}
	return c, nil
}

// newTransport returns a connection pool of the Channel's own, so nothing is
// shared with (or changed in) http.DefaultTransport. It ignores HTTPS_PROXY
// and friends, as library code reads no environment: a host behind a proxy
// passes WithHTTPClient.
func newTransport() http.RoundTripper {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return &http.Transport{ForceAttemptHTTP2: true, TLSHandshakeTimeout: 10 * time.Second, MaxIdleConnsPerHost: maxIdlePerHost}
	}
	t = t.Clone()
	t.Proxy = nil
	// Every delivery worker keeps its connection: Go's default of two idle
	// connections per host would close the others after each call and
	// open new ones (over HTTP/1.1; HTTP/2 shares one anyway).
	t.MaxIdleConnsPerHost = maxIdlePerHost
	return t
}

// maxIdlePerHost covers the outbox's workers (20 by default) with room to spare.
const maxIdlePerHost = 64

// Name returns conversations.ChannelSMS.
func (c *Channel) Name() string { return conversations.ChannelSMS }

// Send sends out as an SMS (or MMS, with Media) and returns Twilio's
// acceptance: the message sid and, usually, StatusQueued.
//
// The message goes from out.MessagingService when set (with out.From as the
// pool's sender, so the customer sees the thread's number) or else from
// out.From; with neither, or with an invalid To, body or media, the error
// wraps conversations.ErrInvalid and Twilio is not called. A failed call is
// a *conversations.ProviderError (see the package documentation for the
// classes). ctx bounds the call, as does Config.Timeout; when it ends, the
// error wraps ctx's error.
func (c *Channel) Send(ctx context.Context, out conversations.Outbound) (conversations.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return conversations.Receipt{}, c.classify(ctx, opSend, err)
	}
	params, err := c.params(ctx, out)
	if err != nil {
		return conversations.Receipt{}, fmt.Errorf("twilio: send: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	msg, err := c.api.createMessage(ctx, params)
	if err != nil {
		pe := c.classify(ctx, opSend, err)
		c.opts.logger.LogAttrs(ctx, slog.LevelWarn, "twilio: send failed",
			slog.String("tenant", string(out.Tenant)), slog.String("message", string(out.Message)),
			slog.String("class", pe.Class.String()), slog.String("code", pe.Code), slog.Int("http_status", pe.HTTPStatus),
			conversations.ErrorAttr(err))
		return conversations.Receipt{}, pe
	}
	sid := deref(msg.Sid)
	if sid == "" {
		return conversations.Receipt{}, &conversations.ProviderError{
			Provider: "twilio", Op: opSend, Class: conversations.MaybeSent,
			Reason: "Twilio accepted the request but its answer had no message sid; the message may have been sent",
		}
	}
	st, ok := mapStatus(deref(msg.Status))
	if !ok || st == conversations.StatusReceived {
		st = conversations.StatusQueued
	}
	at, ok := parseTwilioTime(deref(msg.DateCreated))
	if !ok {
		at = c.opts.now().UTC()
	}
	c.opts.logger.LogAttrs(ctx, slog.LevelDebug, "twilio: sent",
		slog.String("tenant", string(out.Tenant)), slog.String("message", string(out.Message)), slog.String("sid", sid))
	return conversations.Receipt{ProviderID: sid, Status: st, At: at}, nil
}

// params checks out and turns it into the SDK's create parameters.
func (c *Channel) params(ctx context.Context, out conversations.Outbound) (*openapi.CreateMessageParams, error) {
	switch {
	case out.Tenant == "":
		return nil, conversations.Invalid("tenant", "empty")
	case out.Message == "":
		return nil, conversations.Invalid("message", "empty")
	case out.Channel != "" && out.Channel != conversations.ChannelSMS:
		return nil, conversations.Invalid("channel", fmt.Sprintf("%q is not %q", out.Channel, conversations.ChannelSMS))
	}
	to, err := channel.ParsePhone(out.To, c.opts.region)
	if err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	if err := out.CheckContent(); err != nil {
		return nil, err
	}
	p := &openapi.CreateMessageParams{}
	p.SetTo(to)
	if out.MessagingService != "" {
		if !validSID(out.MessagingService, "MG") {
			return nil, conversations.Invalid("messaging_service", "not a Twilio Messaging Service sid (MG and 32 hex digits)")
		}
		p.SetMessagingServiceSid(out.MessagingService)
	} else if out.From == "" {
		return nil, conversations.Invalid("from", "no business number or messaging service to send from")
	}
	if out.From != "" {
		from, err := channel.ParsePhone(out.From, c.opts.region)
		if err != nil {
			return nil, fmt.Errorf("from: %w", err)
		}
		if from == to {
			return nil, conversations.Invalid("to", "the business number itself")
		}
		p.SetFrom(from)
	}
	if out.Body != "" {
		p.SetBody(out.Body)
	}
	if len(out.Media) > 0 {
		urls := make([]string, len(out.Media))
		for i, m := range out.Media {
			urls[i] = m.URL
		}
		p.SetMediaUrl(urls)
	}
	if c.callback != nil {
		p.SetStatusCallback(c.callbackURL(ctx, out))
	}
	return p, nil
}

// callbackURL is the status callback URL for out: ours, with the message id
// and tenant added to its query.
func (c *Channel) callbackURL(ctx context.Context, out conversations.Outbound) string {
	u := *c.callback
	q := u.Query()
	q.Set(QueryMessage, string(out.Message))
	q.Set(QueryTenant, string(out.Tenant))
	// The trace of the send, when there is one, travels with the callback
	// (see Webhooks.Status): Twilio calls the URL it was given.
	injectTrace(ctx, q)
	u.RawQuery = q.Encode()
	return u.String()
}

// Timeout is the bound on one REST call (Config.Timeout): a delivery
// attempt makes at most two (a lookup and a send), which is what a queue's
// job timeout follows from (outbox.ForChannelTimeout).
func (c *Channel) Timeout() time.Duration { return c.timeout }

// StatusCheckAfter implements conversations.StatusFetcher: Config.StatusCheckAfter.
func (c *Channel) StatusCheckAfter() time.Duration { return c.checkAge }

// FetchStatus asks Twilio for a message's current status. The update names
// the message by ProviderID only (Twilio does not know our ids). An unknown
// sid is conversations.ErrNotFound; a failed call is a
// *conversations.ProviderError (Retryable or Permanent: reading twice is
// harmless, so nothing is MaybeSent).
func (c *Channel) FetchStatus(ctx context.Context, providerID string) (conversations.StatusUpdate, error) {
	if !plausibleSID(providerID) {
		return conversations.StatusUpdate{}, fmt.Errorf("twilio: fetch: %w", conversations.Invalid("provider_id", "not a Twilio message sid"))
	}
	if err := ctx.Err(); err != nil {
		return conversations.StatusUpdate{}, c.classify(ctx, opFetch, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	msg, err := c.api.fetchMessage(ctx, providerID)
	if err != nil {
		if notFound(err) {
			return conversations.StatusUpdate{}, fmt.Errorf("twilio: fetch %s: %w", providerID, conversations.ErrNotFound)
		}
		return conversations.StatusUpdate{}, c.classify(ctx, opFetch, err)
	}
	return c.statusOf(opFetch, msg)
}

// statusOf turns a Message resource into a StatusUpdate.
func (c *Channel) statusOf(op string, m *openapi.ApiV2010Message) (conversations.StatusUpdate, error) {
	raw := deref(m.Status)
	st, ok := mapStatus(raw)
	if !ok {
		return conversations.StatusUpdate{}, &conversations.ProviderError{
			Provider: "twilio", Op: op, Class: conversations.Retryable,
			Reason: fmt.Sprintf("Twilio reported status %q, which this version does not know", raw),
		}
	}
	u := conversations.StatusUpdate{Channel: conversations.ChannelSMS, ProviderID: deref(m.Sid), Status: st}
	stamp := deref(m.DateUpdated)
	if st == conversations.StatusSent && m.DateSent != nil {
		stamp = *m.DateSent
	}
	if t, ok := parseTwilioTime(stamp); ok {
		u.At = t
	} else {
		u.At = c.opts.now().UTC()
	}
	if code := deref(m.ErrorCode); code != 0 {
		u.ErrorCode = strconv.Itoa(code)
		u.ErrorReason = reasonFor(u.ErrorCode)
		if u.ErrorReason == "" {
			u.ErrorReason = deref(m.ErrorMessage)
		}
	}
	return u, nil
}

// Reconciliation bounds for Find.
const (
	// clockSkew widens the window for the difference between our clock
	// and Twilio's.
	clockSkew = 2 * time.Minute
	findPage  = 100
	findPages = 5
)

// Find looks for out among the messages Twilio has, to settle a send whose
// answer was lost (MaybeSent) before sending it again; since is when the
// message was first attempted (or created). It implements
// conversations.Finder. It returns the receipt of Twilio's copy,
// conversations.ErrNotFound when Twilio has none (sending again is safe), or
// an error wrapping conversations.ErrConflict when several messages match
// and it cannot tell which is ours (do not send again blindly; the status
// callback, which carries our id, settles it). A failed call is a Retryable
// *conversations.ProviderError.
//
// Twilio's Message resource does not return the status callback URL that
// carries our id, and its DateSent filter skips messages not sent yet, so
// the match is: same To and From (or Messaging Service), outbound, the same
// body and media count, created no earlier than since less a clock-skew
// margin. Up to 500 of the newest messages between the two numbers are read.
func (c *Channel) Find(ctx context.Context, out conversations.Outbound, since time.Time) (conversations.Receipt, error) {
	to, err := channel.ParsePhone(out.To, c.opts.region)
	if err != nil {
		return conversations.Receipt{}, fmt.Errorf("twilio: find: to: %w", err)
	}
	if since.IsZero() {
		return conversations.Receipt{}, fmt.Errorf("twilio: find: %w", conversations.Invalid("since", "zero"))
	}
	params := &openapi.ListMessageParams{}
	params.SetTo(to)
	params.SetPageSize(findPage)
	if out.From != "" {
		from, err := channel.ParsePhone(out.From, c.opts.region)
		if err != nil {
			return conversations.Receipt{}, fmt.Errorf("twilio: find: from: %w", err)
		}
		params.SetFrom(from)
	} else if out.MessagingService == "" {
		return conversations.Receipt{}, fmt.Errorf("twilio: find: %w", conversations.Invalid("from", "no business number or messaging service"))
	}
	if err := ctx.Err(); err != nil {
		return conversations.Receipt{}, c.classify(ctx, opFind, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	earliest := since.Add(-clockSkew)
	var matches []openapi.ApiV2010Message
	token, page := "", ""
	for range findPages {
		resp, err := c.api.pageMessages(ctx, params, token, page)
		if err != nil {
			return conversations.Receipt{}, c.classify(ctx, opFind, err)
		}
		older := false
		for _, m := range resp.Messages {
			created, ok := parseTwilioTime(deref(m.DateCreated))
			if ok && created.Before(earliest) {
				older = true
				continue
			}
			if ours(m, out) {
				matches = append(matches, m)
			}
		}
		next := deref(resp.NextPageUri)
		if older || next == "" {
			break
		}
		nu, err := url.Parse(next)
		if err != nil {
			break
		}
		token, page = nu.Query().Get("PageToken"), nu.Query().Get("Page")
	}

	switch len(matches) {
	case 0:
		return conversations.Receipt{}, fmt.Errorf("twilio: find %s: %w", out.Message, conversations.ErrNotFound)
	case 1:
		m := matches[0]
		st, ok := mapStatus(deref(m.Status))
		if !ok || st == conversations.StatusReceived {
			return conversations.Receipt{}, &conversations.ProviderError{
				Provider: "twilio", Op: opFind, Class: conversations.Retryable,
				Reason: fmt.Sprintf("Twilio reported status %q, which this version does not know", deref(m.Status)),
			}
		}
		at, ok := parseTwilioTime(deref(m.DateCreated))
		if !ok {
			at = c.opts.now().UTC()
		}
		return conversations.Receipt{ProviderID: deref(m.Sid), Status: st, At: at}, nil
	}
	sids := make([]string, len(matches))
	for i, m := range matches {
		sids[i] = deref(m.Sid)
	}
	return conversations.Receipt{}, fmt.Errorf("twilio: find %s: %w: %d messages match (%s)",
		out.Message, conversations.ErrConflict, len(matches), strings.Join(sids, ", "))
}

// ours reports whether m has out's content and sender.
func ours(m openapi.ApiV2010Message, out conversations.Outbound) bool {
	if !strings.HasPrefix(deref(m.Direction), "outbound") || deref(m.Body) != out.Body {
		return false
	}
	if n, err := strconv.Atoi(deref(m.NumMedia)); err == nil && n != len(out.Media) {
		return false
	}
	return out.MessagingService == "" || deref(m.MessagingServiceSid) == out.MessagingService
}

// plausibleSID reports whether s can be a Twilio message sid: short and
// alphanumeric, so it is safe in a URL path.
func plausibleSID(s string) bool {
	return s != "" && len(s) <= 64 && alphanumeric(s)
}

func alphanumeric(s string) bool {
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}
