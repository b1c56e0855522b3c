package twilio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Receiver is what the webhook handlers hand verified messages to.
// *conversations.Hooks (and so *conversations.Service) satisfies it.
//
// Its errors decide the answer Twilio gets: ErrInvalid is 400, ErrNotFound
// 404, ErrForbidden 403, ErrConflict 409; ErrUnavailable, a temporary
// *conversations.ProviderError or a context error is 503, anything else 500,
// so that Twilio retries what a retry can fix. Receive must be idempotent
// on in.ProviderID: Twilio delivers a webhook again when it is unsure we
// got it.
type Receiver interface {
	// NumberOwner finds the business a number is provisioned to, or
	// ErrNotFound.
	NumberOwner(ctx context.Context, number string) (conversations.BusinessNumber, error)
	// Receive files an inbound message; created is false for a repeat. The
	// inbound webhook leaves in.Tenant empty: the business is the one
	// in.BusinessNumber is provisioned to, ErrNotFound when there is none
	// (conversations.Service.Receive finds it in the step that files the
	// message, saving a look-up per message).
	Receive(ctx context.Context, in conversations.InboundMessage) (msg conversations.Message, created bool, err error)
	// ApplyStatus applies a delivery report to the message it names.
	ApplyStatus(ctx context.Context, u conversations.StatusUpdate) (conversations.Message, error)
}

// emptyTwiML is the answer to a webhook we handled: "do nothing more".
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

// Webhooks serves Twilio's webhooks for one account. Its handlers are safe
// for concurrent use.
type Webhooks struct {
	receiver  Receiver
	token     []byte
	publicURL string
	opts      options
}

// NewWebhooks returns the webhook handlers for the account in cfg. It needs
// cfg.AuthToken (the signing key) and cfg.PublicURL. Options: WithLogger,
// WithClock, WithRegion, WithMaxBodyBytes.
func NewWebhooks(cfg Config, r Receiver, opts ...Option) (*Webhooks, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("twilio: webhooks: %w", conversations.Invalid("receiver", "nil"))
	}
	if cfg.AuthToken == "" {
		return nil, fmt.Errorf("twilio: webhooks: %w", conversations.Invalid("auth_token", "empty (Twilio signs webhooks with it)"))
	}
	u, err := parseHTTPURL("public_url", cfg.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("twilio: webhooks: %w", err)
	}
	if u.RawQuery != "" {
		return nil, fmt.Errorf("twilio: webhooks: %w", conversations.Invalid("public_url", "has a query"))
	}
	return &Webhooks{
		receiver:  r,
		token:     []byte(cfg.AuthToken),
		publicURL: strings.TrimSuffix(cfg.PublicURL, "/"),
		opts:      o,
	}, nil
}

// Inbound handles Twilio's incoming-message webhook (configure it as the
// number's or Messaging Service's "A message comes in" URL, HTTP POST).
// The To number decides the business (an unknown number is 404 and nothing
// is stored); the message goes to Receiver.Receive with From in E.164 and
// the media Twilio lists. Opt-out keywords are the Receiver's business.
func (wh *Webhooks) Inbound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, ok := wh.verify(w, r, "inbound")
		if !ok {
			return
		}
		ctx := r.Context()
		log := wh.opts.logger.With(slog.String("webhook", "inbound"), slog.String("sid", form.Get("MessageSid")))
		in, err := parseInbound(form, wh.opts.region, wh.opts.now())
		if err != nil {
			wh.fail(ctx, w, log, http.StatusBadRequest, err)
			return
		}
		msg, created, err := wh.receiver.Receive(ctx, in)
		if err != nil {
			wh.fail(ctx, w, log, statusFor(err), fmt.Errorf("receive: %w", err))
			return
		}
		log.LogAttrs(ctx, slog.LevelDebug, "twilio: inbound message",
			slog.String("tenant", string(msg.Tenant)), slog.String("message", string(msg.ID)), slog.Bool("created", created),
			slog.String("idempotency_token", r.Header.Get("I-Twilio-Idempotency-Token")))
		writeTwiML(w)
	})
}

// Status handles Twilio's status callbacks (the URL Send passes as
// StatusCallback, Config.StatusCallbackURL). Our message id and tenant come
// from the URL's query; without a tenant, the business number (From)
// decides it. RawDlrDoneDate, when present, is the time of the report. A
// status this package does not apply (unknown, or an inbound one) is
// acknowledged and dropped.
func (wh *Webhooks) Status() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, ok := wh.verify(w, r, "status")
		if !ok {
			return
		}
		ctx := callbackTrace(r.Context(), r.URL.Query())
		log := wh.opts.logger.With(slog.String("webhook", "status"), slog.String("sid", form.Get("MessageSid")))
		cb, err := parseStatus(form, r.URL.Query(), wh.opts.region, wh.opts.now())
		if err != nil {
			wh.fail(ctx, w, log, http.StatusBadRequest, err)
			return
		}
		if !cb.known {
			log.LogAttrs(ctx, slog.LevelInfo, "twilio: status not applied", slog.String("status", first(form, "MessageStatus", "SmsStatus")))
			writeTwiML(w)
			return
		}
		u := cb.update
		if u.Tenant == "" {
			if cb.from == "" {
				wh.fail(ctx, w, log, http.StatusBadRequest, conversations.Invalid("From", "no tenant in the URL and no business number in the form"))
				return
			}
			owner, err := wh.receiver.NumberOwner(ctx, cb.from)
			if err != nil {
				wh.fail(ctx, w, log, statusFor(err), fmt.Errorf("number owner of %s: %w", cb.from, err))
				return
			}
			u.Tenant = owner.Tenant
		}
		if _, err := wh.receiver.ApplyStatus(ctx, u); err != nil {
			wh.fail(ctx, w, log, statusFor(err), fmt.Errorf("apply status: %w", err))
			return
		}
		log.LogAttrs(ctx, slog.LevelDebug, "twilio: status applied",
			slog.String("tenant", string(u.Tenant)), slog.String("message", string(u.Message)), slog.String("status", string(u.Status)))
		writeTwiML(w)
	})
}

// verify reads the form of a POST and checks its signature. It answers the
// request itself and returns false when the request goes no further.
func (wh *Webhooks) verify(w http.ResponseWriter, r *http.Request, kind string) (url.Values, bool) {
	ctx := r.Context()
	log := wh.opts.logger.With(slog.String("webhook", kind))
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		wh.fail(ctx, w, log, http.StatusMethodNotAllowed, errors.New("not a POST"))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, wh.opts.maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			wh.fail(ctx, w, log, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", wh.opts.maxBodyBytes))
		} else {
			wh.fail(ctx, w, log, http.StatusBadRequest, fmt.Errorf("read body: %w", err))
		}
		return nil, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		wh.fail(ctx, w, log, http.StatusBadRequest, fmt.Errorf("parse form: %w", err))
		return nil, false
	}
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" || !signatureValid(wh.token, wh.publicURL+requestTarget(r), form, sig) {
		wh.fail(ctx, w, log, http.StatusForbidden, errors.New("missing or invalid X-Twilio-Signature"))
		return nil, false
	}
	return form, true
}

// requestTarget is the path and query the client asked for, exactly as
// sent: r.RequestURI survives http.StripPrefix, which rewrites r.URL.
func requestTarget(r *http.Request) string {
	switch {
	case strings.HasPrefix(r.RequestURI, "/"):
		return r.RequestURI
	case r.RequestURI != "":
		if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
			return u.RequestURI() // an absolute-form target
		}
	}
	return r.URL.RequestURI()
}

func (wh *Webhooks) fail(ctx context.Context, w http.ResponseWriter, log *slog.Logger, status int, err error) {
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelError
	case status == http.StatusForbidden:
		level = slog.LevelWarn
	}
	log.LogAttrs(ctx, level, "twilio: webhook refused", slog.Int("status", status), conversations.ErrorAttr(err))
	http.Error(w, http.StatusText(status), status)
}

func writeTwiML(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, emptyTwiML)
}

// statusFor maps a Receiver error to the HTTP status Twilio gets.
func statusFor(err error) int {
	var pe *conversations.ProviderError
	switch {
	case errors.Is(err, conversations.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, conversations.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, conversations.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, conversations.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, conversations.ErrUnavailable),
		errors.As(err, &pe) && pe.Temporary(),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
