package sendgrid

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Config is a SendGrid account as the host configures it for sending.
type Config struct {
	// APIKey authenticates mail/send calls (SG. and the secret, as
	// SendGrid shows it once when the key is created). It needs the
	// "Mail Send" permission. Required.
	APIKey string
	// FromName is the display name used when Outbound.From is a bare
	// address ("office@acme.example"); an Outbound.From with its own name
	// ("Acme Plumbing <office@acme.example>") keeps it. Optional.
	FromName string
	// Timeout bounds each API call (default 15s); the caller's context
	// may end it sooner.
	Timeout time.Duration
}

// WebhookConfig is what the event webhook needs to trust a request.
type WebhookConfig struct {
	// PublicKey is the Signed Event Webhook's verification key exactly
	// as SendGrid shows it (Settings > Mail Settings > Event Webhook):
	// base64 of the DER-encoded ECDSA P-256 public key. A PEM block of
	// the same key is accepted too. Required.
	PublicKey string
	// MaxSkew is how far the signed timestamp may lie from our clock, in
	// either direction, before a request is refused as a replay (default
	// 10 minutes).
	MaxSkew time.Duration
}

// Defaults for what Config and WebhookConfig leave zero.
const (
	// DefaultTimeout bounds a mail/send call when Config.Timeout is zero.
	DefaultTimeout = 15 * time.Second
	// DefaultMaxSkew is WebhookConfig.MaxSkew when zero.
	DefaultMaxSkew = 10 * time.Minute
	// DefaultMaxBodyBytes is the largest event batch the webhook reads.
	// A batch answered 413 is posted again and refused again, so a host
	// that sees 413s in its logs raises the limit with WithMaxBodyBytes.
	DefaultMaxBodyBytes = 1 << 20
)

// defaultBaseURL is SendGrid's v3 API (global region).
const defaultBaseURL = "https://api.sendgrid.com"

// Option configures a Channel or a Webhook; each says which it applies to,
// and the other ignores it.
type Option func(*options)

type options struct {
	logger       *slog.Logger
	now          func() time.Time
	httpClient   *http.Client
	baseURL      string
	maxBodyBytes int64
}

func buildOptions(opts []Option) (options, error) {
	o := options{
		logger:       slog.New(slog.DiscardHandler),
		now:          time.Now,
		baseURL:      defaultBaseURL,
		maxBodyBytes: DefaultMaxBodyBytes,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.maxBodyBytes <= 0 {
		return o, fmt.Errorf("sendgrid: max body bytes: %w", conversations.Invalid("max_body_bytes", "must be positive"))
	}
	return o, nil
}

// WithLogger sets the logger (default: discard). Channel and Webhook.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithClock sets the clock (default time.Now): the receipt time when
// SendGrid's answer has no Date, and the webhook's timestamp check.
// Channel and Webhook.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithHTTPClient sets the HTTP client whose Transport (and Timeout, if
// set) API calls use: for a proxy, custom TLS or instrumentation (default:
// a transport of the Channel's own, with no proxy). Redirects are never
// followed, whatever the client says: the API key must not travel
// elsewhere. Channel only.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) { o.httpClient = c }
}

// WithBaseURL sends API calls to base instead of https://api.sendgrid.com:
// the EU region (https://api.eu.sendgrid.com), a proxy (a path prefix is
// kept), or, in tests, a sendgridtest.Server. Channel only.
func WithBaseURL(base string) Option {
	return func(o *options) { o.baseURL = base }
}

// WithMaxBodyBytes sets the largest event batch the webhook reads
// (default DefaultMaxBodyBytes); a larger one is answered 413. Webhook
// only.
func WithMaxBodyBytes(n int64) Option {
	return func(o *options) { o.maxBodyBytes = n }
}

// parseBaseURL checks that s is an absolute http(s) URL with nothing the
// SDK would mangle (a query, a fragment, credentials) and returns it
// without a trailing slash, ready for the endpoint path to follow.
func parseBaseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", conversations.Invalid("base_url", "not an absolute http(s) URL without query or credentials")
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// validAPIKey reports whether key can be a SendGrid API key: "SG." and
// visible ASCII, so it is safe in an Authorization header. A key id or
// a key with a stray newline from a secrets file is refused at New
// rather than on every send.
func validAPIKey(key string) bool {
	if !strings.HasPrefix(key, "SG.") || len(key) < 4 || len(key) > 512 {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] <= ' ' || key[i] > '~' {
			return false
		}
	}
	return true
}
