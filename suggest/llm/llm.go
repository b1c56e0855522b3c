package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Source is the Suggestion.Source of everything this package suggests.
const Source = "llm"

// Defaults for Config and options.
const (
	DefaultBaseURL = "https://api.openai.com/v1/"
	DefaultTimeout = 2 * time.Second
	DefaultHistory = 10
)

// ErrBadAnswer is wrapped by the error Suggest returns when the model's
// answer is not valid JSON of the requested shape or breaks a rule of the
// Suggester contract.
var ErrBadAnswer = errors.New("llm: bad answer from the model")

// Config says which endpoint and model to use.
type Config struct {
	// BaseURL is the endpoint's API root, up to and including /v1; ""
	// means OpenAI (DefaultBaseURL).
	BaseURL string
	// APIKey is sent as a bearer token; "" sends none (a local Ollama or vLLM).
	APIKey string
	// Model names the model (OpenAI, Ollama, vLLM) or deployment (Azure). Required.
	Model string
	// Timeout bounds one Suggest call; 0 means DefaultTimeout.
	Timeout time.Duration
	// HTTPClient makes the requests; nil means a client of the Suggester's own.
	HTTPClient *http.Client
}

// Option configures a Suggester.
type Option func(*Suggester)

// WithLogger sets where the Suggester logs failed calls (without message
// text); the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(s *Suggester) {
		if l != nil {
			s.log = l
		}
	}
}

// WithClock sets the clock that stamps suggestions and tells the model the
// current time; the default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Suggester) {
		if now != nil {
			s.now = now
		}
	}
}

// WithHistory sets how many of the thread's most recent messages are sent;
// the default is DefaultHistory. Values below 1 are ignored.
func WithHistory(n int) Option {
	return func(s *Suggester) {
		if n >= 1 {
			s.history = n
		}
	}
}

// WithRequestOptions passes extra openai-go request options, applied after
// the ones Config implies: for example azure.WithEndpoint and
// azure.WithAPIKey for Azure OpenAI's older deployment-style API, or a
// header a gateway needs.
func WithRequestOptions(opts ...option.RequestOption) Option {
	return func(s *Suggester) { s.extra = append(s.extra, opts...) }
}

// chatCompleter is the part of the SDK the Suggester uses; tests of the
// package itself can stand in for it.
type chatCompleter interface {
	New(ctx context.Context, body openai.ChatCompletionNewParams, opts ...option.RequestOption) (*openai.ChatCompletion, error)
}

// Suggester is the model-backed conversations.Suggester. It is safe for
// concurrent use.
type Suggester struct {
	model   string
	timeout time.Duration
	history int
	chat    chatCompleter
	extra   []option.RequestOption
	log     *slog.Logger
	now     func() time.Time
}

var _ conversations.Suggester = (*Suggester)(nil)

// New returns a Suggester for cfg. It returns an error wrapping
// conversations.ErrInvalid when Model is empty, BaseURL is not an http(s)
// URL or Timeout is negative. It makes no request.
func New(cfg Config, opts ...Option) (*Suggester, error) {
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, fmt.Errorf("llm: new: %w", conversations.Invalid("model", "empty"))
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("llm: new: %w", conversations.Invalid("timeout", "negative"))
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("llm: new: %w", conversations.Invalid("base_url", "not an http(s) URL"))
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	s := &Suggester{
		model:   cfg.Model,
		timeout: cfg.Timeout,
		history: DefaultHistory,
		log:     slog.New(slog.DiscardHandler),
		now:     time.Now,
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	for _, o := range opts {
		o(s)
	}
	// NewChatCompletionService, unlike openai.NewClient, reads no OPENAI_*
	// environment variables: everything it does comes from these options.
	ropts := []option.RequestOption{
		option.WithBaseURL(base),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0),
	}
	if cfg.APIKey != "" {
		ropts = append(ropts, option.WithAPIKey(cfg.APIKey))
	}
	svc := openai.NewChatCompletionService(append(ropts, s.extra...)...)
	s.chat = &svc
	return s, nil
}

// Suggest implements conversations.Suggester.
func (s *Suggester) Suggest(ctx context.Context, req conversations.SuggestRequest) ([]conversations.Suggestion, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("llm: suggest: %w", err)
	}
	in, err := req.ToAnswer()
	if err != nil {
		return nil, fmt.Errorf("llm: suggest: %w", err)
	}
	if req.Now.IsZero() {
		// The prompt and the check of the answer read "now" alike.
		req.Now = s.now()
	}
	params, err := s.params(req)
	if err != nil {
		return nil, err
	}
	callCtx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	start := time.Now()
	res, err := s.chat.New(callCtx, params)
	if err != nil {
		err = s.callError(ctx, callCtx, err)
		s.log.LogAttrs(ctx, slog.LevelDebug, "llm: call failed", slog.String("model", s.model),
			slog.Duration("elapsed", time.Since(start)), conversations.ErrorAttr(err))
		return nil, err
	}
	ss, err := s.decode(req, in, res)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelDebug, "llm: bad answer", slog.String("model", s.model),
			slog.Duration("elapsed", time.Since(start)), conversations.ErrorAttr(err))
		return nil, &conversations.ProviderError{
			Provider: Source, Op: "suggest", Class: conversations.Retryable,
			Reason: "invalid answer", Err: fmt.Errorf("%w: %w", ErrBadAnswer, err),
		}
	}
	return ss, nil
}

// callError classifies a failed call: the caller's context first, then our
// own timeout, then what the endpoint answered.
func (s *Suggester) callError(ctx, callCtx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("llm: suggest: %w", ctx.Err())
	}
	pe := &conversations.ProviderError{Provider: Source, Op: "suggest", Class: conversations.Retryable, Err: err}
	if callCtx.Err() != nil {
		pe.Reason = "no answer within " + s.timeout.String()
		return pe
	}
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		pe.HTTPStatus = apiErr.StatusCode
		pe.Code = apiErr.Code
		switch st := apiErr.StatusCode; {
		case st == http.StatusTooManyRequests || st == http.StatusRequestTimeout || st >= 500:
			pe.Reason = "endpoint busy or failing"
		default:
			pe.Class = conversations.Permanent
			pe.Reason = "endpoint refused the request"
		}
		if apiErr.Response != nil {
			pe.RetryAfter = retryAfter(apiErr.Response.Header.Get("Retry-After"), s.now())
		}
		return pe
	}
	pe.Reason = "endpoint unreachable or answer unreadable"
	return pe
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
