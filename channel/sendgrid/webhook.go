package sendgrid

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Receiver is what the Webhook hands delivery reports to.
// *conversations.Hooks (and so *conversations.Service) satisfies it.
//
// ApplyStatus must be idempotent and forward-only (the Service is): SendGrid
// posts a batch again when it is unsure we got it, and its events arrive in
// no particular order. Its errors decide the answer SendGrid gets; see
// Webhook.
type Receiver interface {
	ApplyStatus(ctx context.Context, u conversations.StatusUpdate) (conversations.Message, error)
}

// Webhook is the http.Handler for SendGrid's Event Webhook (configure it
// under Settings > Mail Settings > Event Webhook, with the Signed Event
// Webhook enabled). It is safe for concurrent use.
//
// A request is trusted only when its ECDSA signature, over the timestamp
// and the raw body, verifies with the configured public key and the
// timestamp lies within MaxSkew of now; anything else is 403 and nothing
// is read from it. The body (at most WithMaxBodyBytes, else 413) is a JSON
// array of events. Each event that carries our custom arguments (ArgMessage,
// ArgTenant) and says something about delivery becomes one
// conversations.StatusUpdate for that message (see the package
// documentation for the mapping); the others are acknowledged and dropped.
//
// The answer says whether SendGrid should post the batch again, which it
// does for any non-2xx answer, for up to 24 hours:
//
//   - 200 when every event was applied, skipped, or refused by the Receiver
//     for good (ErrInvalid, ErrNotFound, ErrForbidden: posting it again
//     would be refused again; each is logged).
//   - 503 as soon as the Receiver fails in a way a retry can fix
//     (ErrUnavailable, a temporary *conversations.ProviderError, a context
//     error). The rest of the batch is not tried: the store is down, and
//     the whole batch comes again.
//   - 500 when the Receiver failed otherwise: an ErrConflict (a concurrent
//     change, which a later try settles) or an error it did not classify.
//     The other events are still applied, and the retry applies the batch
//     again; a repeat is harmless, a lost delivery report is not.
//   - 400 for a signed body that is not a JSON array (it comes again and
//     is refused again, until SendGrid gives up).
//
// Refused requests (403, 405, 413) reach no Receiver.
type Webhook struct {
	receiver Receiver
	key      *ecdsa.PublicKey
	maxSkew  time.Duration
	opts     options
}

var _ http.Handler = (*Webhook)(nil)

// NewWebhook returns the event webhook handler for the verification key in
// cfg. A key that is not base64 DER of an ECDSA P-256 public key is an error
// wrapping conversations.ErrInvalid. Options: WithLogger, WithClock,
// WithMaxBodyBytes.
func NewWebhook(cfg WebhookConfig, r Receiver, opts ...Option) (*Webhook, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("sendgrid: webhook: %w", conversations.Invalid("receiver", "nil"))
	}
	key, err := parsePublicKey(cfg.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("sendgrid: webhook: %w", err)
	}
	wh := &Webhook{receiver: r, key: key, maxSkew: cfg.MaxSkew, opts: o}
	if wh.maxSkew < 0 {
		return nil, fmt.Errorf("sendgrid: webhook: %w", conversations.Invalid("max_skew", "negative"))
	}
	if wh.maxSkew == 0 {
		wh.maxSkew = DefaultMaxSkew
	}
	return wh, nil
}

// ServeHTTP verifies a batch of events and applies it; see Webhook.
func (wh *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	log := wh.opts.logger.With(slog.String("webhook", "sendgrid-events"))
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		wh.refuse(ctx, w, log, http.StatusMethodNotAllowed, errors.New("not a POST"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, wh.opts.maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			wh.refuse(ctx, w, log, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", wh.opts.maxBodyBytes))
		} else {
			wh.refuse(ctx, w, log, http.StatusBadRequest, fmt.Errorf("read body: %w", err))
		}
		return
	}
	if err := verifySignature(wh.key, r.Header, body, wh.opts.now(), wh.maxSkew); err != nil {
		wh.refuse(ctx, w, log, http.StatusForbidden, err)
		return
	}
	events, err := parseEvents(body)
	if err != nil {
		wh.refuse(ctx, w, log, http.StatusBadRequest, err)
		return
	}

	var applied, skipped, rejected, failed int
	for _, e := range events {
		attrs := []slog.Attr{
			slog.String("event", clean(string(e.ev.Event), 40)),
			slog.String("sg_event_id", clean(string(e.ev.SGEventID), 100)),
		}
		switch {
		case e.bad != nil:
			rejected++
			log.LogAttrs(ctx, slog.LevelWarn, "sendgrid: event refused", append(attrs, conversations.ErrorAttr(e.bad))...)
			continue
		case !e.apply:
			skipped++
			level := slog.LevelDebug
			if string(e.ev.Event) == eventDeferred && string(e.ev.Message) != "" {
				// Still trying: worth a line when a customer asks why the
				// email has not arrived.
				level = slog.LevelInfo
				attrs = append(attrs, slog.String("message", clean(string(e.ev.Message), 100)),
					slog.String("attempt", clean(string(e.ev.Attempt), 10)),
					slog.String("response", clean(string(e.ev.Response), maxServerReasonBytes)))
			}
			log.LogAttrs(ctx, level, "sendgrid: event skipped", append(attrs, slog.String("why", e.skip))...)
			continue
		}
		u := e.update
		attrs = append(attrs, slog.String("tenant", string(u.Tenant)), slog.String("message", string(u.Message)),
			slog.String("status", string(u.Status)))
		_, err := wh.receiver.ApplyStatus(ctx, u)
		switch {
		case err == nil:
			applied++
			log.LogAttrs(ctx, slog.LevelDebug, "sendgrid: status applied", attrs...)
		case temporary(err):
			log.LogAttrs(ctx, slog.LevelError, "sendgrid: status not applied; SendGrid will post the batch again",
				append(attrs, conversations.ErrorAttr(err))...)
			answer(w, http.StatusServiceUnavailable)
			return
		case permanent(err):
			rejected++
			log.LogAttrs(ctx, slog.LevelWarn, "sendgrid: status refused", append(attrs, conversations.ErrorAttr(err))...)
		default:
			failed++
			log.LogAttrs(ctx, slog.LevelError, "sendgrid: status not applied", append(attrs, conversations.ErrorAttr(err))...)
		}
	}
	log.LogAttrs(ctx, slog.LevelDebug, "sendgrid: batch handled", slog.Int("events", len(events)),
		slog.Int("applied", applied), slog.Int("skipped", skipped), slog.Int("refused", rejected), slog.Int("failed", failed))
	if failed > 0 {
		answer(w, http.StatusInternalServerError)
		return
	}
	answer(w, http.StatusOK)
}

func (wh *Webhook) refuse(ctx context.Context, w http.ResponseWriter, log *slog.Logger, status int, err error) {
	level := slog.LevelInfo
	if status == http.StatusForbidden {
		level = slog.LevelWarn
	}
	log.LogAttrs(ctx, level, "sendgrid: webhook refused", slog.Int("status", status), conversations.ErrorAttr(err))
	answer(w, status)
}

func answer(w http.ResponseWriter, status int) {
	if status == http.StatusOK {
		w.WriteHeader(status)
		return
	}
	http.Error(w, http.StatusText(status), status)
}

// temporary reports a Receiver error a later retry can fix.
func temporary(err error) bool {
	var pe *conversations.ProviderError
	return errors.Is(err, conversations.ErrUnavailable) ||
		(errors.As(err, &pe) && pe.Temporary()) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// permanent reports a Receiver error that the same event meets again.
// ErrConflict is not one: for a status update it means a concurrent change.
func permanent(err error) bool {
	return errors.Is(err, conversations.ErrInvalid) || errors.Is(err, conversations.ErrNotFound) ||
		errors.Is(err, conversations.ErrForbidden)
}
