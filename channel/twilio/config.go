package twilio

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fieldtalk/fieldtalk/channel"
	"github.com/fieldtalk/fieldtalk/conversations"
)

// Config is a Twilio account as the host configures it.
type Config struct {
	// AccountSID is the account (AC...). Required to send.
	AccountSID string
	// AuthToken authenticates REST calls unless an API key is set, and is
	// always the key Twilio signs webhooks with.
	AuthToken string
	// APIKeySID and APIKeySecret (SK...), when set, authenticate REST calls
	// instead of the auth token.
	APIKeySID    string
	APIKeySecret string
	// StatusCallbackURL is our public URL of the status-callback handler
	// (Webhooks.Status), e.g. https://api.example.com/twilio/status. Send
	// adds the message id and tenant to its query. Empty: no callbacks.
	StatusCallbackURL string
	// PublicURL is the scheme and host (plus any path prefix a proxy
	// strips) under which Twilio reaches our webhooks, e.g.
	// https://api.example.com. Required for Webhooks.
	PublicURL string
	// Timeout bounds each REST call (default 15s); the caller's context
	// may end it sooner.
	Timeout time.Duration
	// StatusCheckAfter is how long after a message's last status change
	// without a callback it is fetched from Twilio (a callback lost while
	// the host was down, a message queued at Twilio that nothing followed).
	// Zero means DefaultStatusCheckAfter; negative never fetches.
	StatusCheckAfter time.Duration
}

const (
	// DefaultTimeout bounds a REST call when Config.Timeout is zero.
	DefaultTimeout = 15 * time.Second
	// DefaultStatusCheckAfter is Config.StatusCheckAfter's default: Twilio
	// calls back within seconds of a change, and retries a failed
	// callback for a few minutes no longer.
	DefaultStatusCheckAfter = 5 * time.Minute
)

// DefaultMaxBodyBytes is the largest webhook body the handlers read.
// Twilio's forms are a few KiB even with ten media URLs.
const DefaultMaxBodyBytes = 64 << 10

// defaultBaseURL is Twilio's REST API.
const defaultBaseURL = "https://api.twilio.com"

// Option configures a Channel or Webhooks; each says which it applies to,
// and the other ignores it.
type Option func(*options)

type options struct {
	logger       *slog.Logger
	now          func() time.Time
	httpClient   *http.Client
	baseURL      string
	region       string
	maxBodyBytes int64
}

func buildOptions(opts []Option) (options, error) {
	o := options{
		logger:       slog.New(slog.DiscardHandler),
		now:          time.Now,
		baseURL:      defaultBaseURL,
		region:       channel.DefaultRegion,
		maxBodyBytes: DefaultMaxBodyBytes,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if _, err := channel.ParsePhone("+15005550006", o.region); err != nil {
		return o, fmt.Errorf("twilio: region: %w", err)
	}
	if o.maxBodyBytes <= 0 {
		return o, fmt.Errorf("twilio: max body bytes: %w", conversations.Invalid("max_body_bytes", "must be positive"))
	}
	return o, nil
}

// WithLogger sets the logger (default: discard). Channel and Webhooks.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithClock sets the clock (default time.Now). Channel and Webhooks.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithHTTPClient sets the HTTP client whose Transport (and Timeout, if set)
// REST calls use: for a proxy, custom TLS or instrumentation (default: a
// transport of the Channel's own, with no proxy). Channel only.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) { o.httpClient = c }
}

// WithBaseURL sends REST calls to base instead of https://api.twilio.com:
// a regional edge (https://api.dublin.ie1.twilio.com) or, in tests, a
// twiliotest.Server. The transport rewrites each request's scheme and host
// (and prefixes base's path), so it applies to every call the SDK makes.
// Channel only.
func WithBaseURL(base string) Option {
	return func(o *options) { o.baseURL = base }
}

// WithRegion sets the region for numbers written without a country code
// (default channel.DefaultRegion). Channel and Webhooks.
func WithRegion(region string) Option {
	return func(o *options) { o.region = region }
}

// WithMaxBodyBytes sets the largest webhook body read (default
// DefaultMaxBodyBytes); a larger one is answered 413. Webhooks only.
func WithMaxBodyBytes(n int64) Option {
	return func(o *options) { o.maxBodyBytes = n }
}

// parseHTTPURL checks that s is an absolute http(s) URL.
func parseHTTPURL(field, s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return nil, conversations.Invalid(field, "not an absolute http(s) URL")
	}
	return u, nil
}

// validSID reports whether s looks like a Twilio sid with prefix: the prefix
// and 32 hex digits.
func validSID(s, prefix string) bool {
	if len(s) != 34 || !strings.HasPrefix(s, prefix) {
		return false
	}
	for _, r := range s[2:] {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F') {
			return false
		}
	}
	return true
}
