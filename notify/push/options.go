package push

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/notify"
)

// Devices is where FCM finds a staff member's push tokens and forgets the
// dead ones. *store.DB implements it.
type Devices interface {
	// DeviceTokens returns the push tokens of staff's devices.
	DeviceTokens(ctx context.Context, tenant conversations.TenantID, staff conversations.StaffID) ([]string, error)
	// RemoveDeviceToken forgets a token; an unknown one is not an error.
	RemoveDeviceToken(ctx context.Context, tenant conversations.TenantID, token string) error
}

// Defaults of the options.
const (
	DefaultRetries       = 3
	DefaultBackoff       = 500 * time.Millisecond
	DefaultMaxBackoff    = 10 * time.Second
	DefaultMaxRetryAfter = 30 * time.Second
	DefaultTimeout       = 15 * time.Second
)

// Option configures NewFCM and NewWebhook.
type Option func(*options)

type options struct {
	http          *http.Client
	log           *slog.Logger
	now           func() time.Time
	sleep         func(ctx context.Context, d time.Duration) error
	retries       int
	backoff       time.Duration
	maxBackoff    time.Duration
	maxRetryAfter time.Duration
	render        Renderer
	vis           notify.Visibility
}

func buildOptions(opts []Option) options {
	o := options{
		http:          &http.Client{Timeout: DefaultTimeout},
		log:           slog.New(slog.DiscardHandler),
		now:           time.Now,
		sleep:         sleep,
		retries:       DefaultRetries,
		backoff:       DefaultBackoff,
		maxBackoff:    DefaultMaxBackoff,
		maxRetryAfter: DefaultMaxRetryAfter,
		render:        DefaultRender,
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithHTTPClient sets the HTTP client (default: a client of its own with a
// 15 s timeout; the caller's context may end a call sooner).
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) {
		if c != nil {
			o.http = c
		}
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithClock sets the clock for token lifetimes and signatures (default
// time.Now).
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithRetries sets how many times a call the service refused for now
// (429, 5xx, a dropped connection) is tried again (default 3; 0 never).
func WithRetries(n int) Option {
	return func(o *options) {
		if n >= 0 {
			o.retries = n
		}
	}
}

// WithBackoff sets the delay before the first retry and its cap; each
// retry waits a random time up to twice the one before, unless the service
// said how long (Retry-After).
func WithBackoff(first, maxDelay time.Duration) Option {
	return func(o *options) {
		if first > 0 && maxDelay >= first {
			o.backoff, o.maxBackoff = first, maxDelay
		}
	}
}

// WithSleep sets how a call waits before a retry (default: a timer that
// ends early, with ctx's error, when ctx ends). Tests pass one that records
// the wait asked for and returns at once.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(o *options) {
		if sleep != nil {
			o.sleep = sleep
		}
	}
}

// WithMaxRetryAfter sets the longest Retry-After a call waits out (default
// 30s); asked to wait longer, it gives up with a retryable error that
// carries the service's hint.
func WithMaxRetryAfter(d time.Duration) Option {
	return func(o *options) {
		if d >= 0 {
			o.maxRetryAfter = d
		}
	}
}

// WithRenderer sets how notifications become pushes (default
// DefaultRender).
func WithRenderer(r Renderer) Option {
	return func(o *options) {
		if r != nil {
			o.render = r
		}
	}
}

// WithVisibility makes every push, before each attempt (the first and each
// retry), ask whether its recipient may still see the thread it names
// (*conversations.ThreadAccess): a push for a thread the recipient was
// unassigned from, removed from or whose job was unlinked meanwhile is
// dropped, not sent. Badge pushes always go. Without it, a push goes as the
// Service chose it.
func WithVisibility(v notify.Visibility) Option {
	return func(o *options) { o.vis = v }
}

// stillVisible reports whether n may still be pushed (WithVisibility).
// When it cannot tell, the push is not sent: the error says why.
func (o options) stillVisible(ctx context.Context, n conversations.Notification) (bool, error) {
	show, err := notify.Visible(ctx, o.vis, []conversations.Notification{n})
	if err != nil {
		return false, err
	}
	return show[0], nil
}

// wait returns how long to wait before retry number attempt (from 1), and
// false when the call should give up instead.
func (o options) wait(ctx context.Context, attempt int, retryAfter time.Duration) (time.Duration, bool) {
	if attempt > o.retries {
		return 0, false
	}
	d := retryAfter
	if d > o.maxRetryAfter {
		return 0, false
	}
	if d <= 0 {
		ceiling := min(o.backoff<<min(attempt-1, 20), o.maxBackoff)
		d = ceiling/2 + rand.N(ceiling/2+1) // jittered, so many senders do not retry in step
	}
	if deadline, ok := ctx.Deadline(); ok && o.now().Add(d).After(deadline) {
		return 0, false
	}
	return d, true
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// retryable reports whether an HTTP status says "try again later".
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500
}
