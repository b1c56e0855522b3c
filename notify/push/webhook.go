package push

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/notify"
)

// Headers of a web-hook push.
const (
	// HeaderTimestamp is when the request was signed, in Unix seconds.
	HeaderTimestamp = "X-Fieldtalk-Timestamp"
	// HeaderSignature is "v1=" and the hex HMAC-SHA256, keyed with the
	// shared secret, of the timestamp, a ".", and the body.
	HeaderSignature = "X-Fieldtalk-Signature"
	// HeaderDelivery is the same on every retry of one notification, so
	// the gateway can drop a repeat.
	HeaderDelivery = "X-Fieldtalk-Delivery"
)

// DefaultTolerance is how old a signed request VerifyWebhook accepts.
const DefaultTolerance = 5 * time.Minute

// minSecretBytes is the shortest shared secret NewWebhook accepts.
const minSecretBytes = 16

// WebhookConfig configures a Webhook Notifier.
type WebhookConfig struct {
	// URL is the host's push gateway; it receives a POST per notification.
	URL string
	// Secret signs each request (at least 16 bytes); the gateway checks
	// the signature with VerifyWebhook.
	Secret []byte
}

// WebhookBody is what the gateway receives: the notification (as the
// in-app stream carries it) and, unless the push is silent, what to show.
type WebhookBody struct {
	notify.Payload
	Alert *Push `json:"alert,omitempty"`
	// CollapseKey is the thread's CollapseKey, with an alert: the gateway
	// passes it on (apns-collapse-id, an Android notification tag) so a
	// phone shows one notification per thread.
	CollapseKey string `json:"collapse_key,omitempty"`
}

// Webhook is a conversations.Notifier for hosts with their own push
// gateway: it POSTs each notification as JSON, signed with a shared secret
// (HMAC-SHA256 over a timestamp and the body), and retries what the
// gateway refuses for now (429, 5xx), honouring Retry-After. Safe for
// concurrent use.
type Webhook struct {
	url    string
	secret []byte
	o      options
}

var _ conversations.Notifier = (*Webhook)(nil)

// NewWebhook returns a Webhook Notifier. Options: WithHTTPClient,
// WithLogger, WithClock, WithSleep, WithRetries, WithBackoff, WithMaxRetryAfter,
// WithRenderer, WithVisibility.
func NewWebhook(cfg WebhookConfig, opts ...Option) (*Webhook, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("push: webhook: %w", conversations.Invalid("config.url", "not an http(s) URL"))
	}
	if len(cfg.Secret) < minSecretBytes {
		return nil, fmt.Errorf("push: webhook: %w", conversations.Invalid("config.secret", "shorter than 16 bytes"))
	}
	return &Webhook{url: cfg.URL, secret: bytes.Clone(cfg.Secret), o: buildOptions(opts)}, nil
}

// Notify posts n to the gateway. The Renderer decides the alert; a
// notification it skips is still posted, without one, so the gateway can
// keep badges in step.
func (wh *Webhook) Notify(ctx context.Context, n conversations.Notification) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("push: webhook: %w", err)
	}
	if err := n.Check(); err != nil {
		return fmt.Errorf("push: webhook: %w", err)
	}
	b := WebhookBody{Payload: notify.NewPayload(n)}
	if p, ok := wh.o.show(n); ok && !p.Silent() {
		b.Alert, b.CollapseKey = &p, CollapseKey(n.Thread)
	}
	if m := b.Message; m != nil && n.Preview == conversations.PreviewHidden {
		// The gateway gets no more of the text than the phone may show.
		m.Body, m.Media = "", nil
	}
	body, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("push: webhook: encode: %w", err)
	}
	delivery := conversations.NewID[string]()
	for attempt := 1; ; attempt++ {
		if ok, err := wh.o.stillVisible(ctx, n); err != nil {
			return fmt.Errorf("push: webhook: visibility: %w", err)
		} else if !ok {
			wh.o.log.LogAttrs(ctx, slog.LevelDebug, "push: webhook: dropped: the recipient may no longer see the thread",
				slog.String("tenant", string(n.Tenant)), slog.String("staff", string(n.Recipient)))
			return nil
		}
		perr := wh.post(ctx, body, delivery)
		if perr == nil {
			return nil
		}
		if perr.Class != conversations.Retryable || ctx.Err() != nil {
			return fmt.Errorf("push: webhook: %w", perr)
		}
		d, ok := wh.o.wait(ctx, attempt, perr.RetryAfter)
		if !ok {
			return fmt.Errorf("push: webhook: gave up after %d attempts: %w", attempt, perr)
		}
		if err := wh.o.sleep(ctx, d); err != nil {
			return fmt.Errorf("push: webhook: %w", errors.Join(err, perr))
		}
	}
}

func (wh *Webhook) post(ctx context.Context, body []byte, delivery string) *conversations.ProviderError {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, wh.url, bytes.NewReader(body))
	if err != nil {
		return &conversations.ProviderError{Provider: "webhook", Op: "post", Class: conversations.Permanent, Err: err}
	}
	ts := strconv.FormatInt(wh.o.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, signature(wh.secret, ts, body))
	req.Header.Set(HeaderDelivery, delivery)
	resp, err := wh.o.http.Do(req)
	if err != nil {
		return &conversations.ProviderError{Provider: "webhook", Op: "post", Class: conversations.Retryable, Err: err}
	}
	defer resp.Body.Close()
	reason, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	class := conversations.Permanent
	if retryable(resp.StatusCode) {
		class = conversations.Retryable
	}
	return &conversations.ProviderError{
		Provider: "webhook", Op: "post", Class: class, Code: strconv.Itoa(resp.StatusCode), HTTPStatus: resp.StatusCode,
		RetryAfter: retryAfter(resp.Header, wh.o.now()), Reason: strings.TrimSpace(string(reason)),
	}
}

func signature(secret []byte, ts string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifyWebhook checks a web-hook push as a gateway receives it: the
// signature over the timestamp and body, and a timestamp within tolerance
// of now (DefaultTolerance when zero), which keeps a captured request from
// being replayed later. A failure is ErrForbidden.
func VerifyWebhook(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	ts := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("push: verify: malformed timestamp: %w", conversations.ErrForbidden)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("push: verify: timestamp outside the tolerance: %w", conversations.ErrForbidden)
	}
	if !hmac.Equal([]byte(h.Get(HeaderSignature)), []byte(signature(secret, ts, body))) {
		return fmt.Errorf("push: verify: bad signature: %w", conversations.ErrForbidden)
	}
	return nil
}
