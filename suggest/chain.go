package suggest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// DefaultBudget is how long a Chain waits for its primary Suggester when
// ChainConfig.Budget is zero. It is below the llm adapter's default timeout
// so a slow model costs the inbox at most this long.
const DefaultBudget = 1500 * time.Millisecond

// ChainConfig says which Suggesters a Chain combines.
type ChainConfig struct {
	// Primary is asked first, usually an *llm.Suggester. Required.
	Primary conversations.Suggester
	// Fallback answers when Primary errs, breaks the contract or is slower
	// than Budget, usually a *rules.Suggester. Required.
	Fallback conversations.Suggester
	// Budget is how long Primary gets; 0 means DefaultBudget.
	Budget time.Duration
}

// Option configures a Chain.
type Option func(*Chain)

// WithLogger sets where a Chain logs why it fell back; the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *Chain) {
		if l != nil {
			c.log = l
		}
	}
}

// Chain is a conversations.Suggester that tries a primary Suggester within a
// budget and falls back to another one. It returns Primary's suggestions only
// when they arrive in time and pass Validate; otherwise it logs why (reason
// "error", "timeout" or "invalid") and returns Fallback's. It is safe for
// concurrent use when both Suggesters are.
type Chain struct {
	primary  conversations.Suggester
	fallback conversations.Suggester
	budget   time.Duration
	log      *slog.Logger
}

var _ conversations.Suggester = (*Chain)(nil)

// NewChain returns a Chain. It returns an error wrapping
// conversations.ErrInvalid when a Suggester is missing or Budget is negative.
func NewChain(cfg ChainConfig, opts ...Option) (*Chain, error) {
	switch {
	case cfg.Primary == nil:
		return nil, fmt.Errorf("suggest: new chain: %w", conversations.Invalid("primary", "nil"))
	case cfg.Fallback == nil:
		return nil, fmt.Errorf("suggest: new chain: %w", conversations.Invalid("fallback", "nil"))
	case cfg.Budget < 0:
		return nil, fmt.Errorf("suggest: new chain: %w", conversations.Invalid("budget", "negative"))
	}
	c := &Chain{
		primary:  cfg.Primary,
		fallback: cfg.Fallback,
		budget:   cfg.Budget,
		log:      slog.New(slog.DiscardHandler),
	}
	if c.budget == 0 {
		c.budget = DefaultBudget
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

type result struct {
	ss  []conversations.Suggestion
	err error
}

// Suggest implements conversations.Suggester.
func (c *Chain) Suggest(ctx context.Context, req conversations.SuggestRequest) ([]conversations.Suggestion, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("suggest: chain: %w", err)
	}
	start := time.Now()
	pctx, cancel := context.WithTimeout(ctx, c.budget)
	defer cancel()

	// Primary runs in its own goroutine so the budget holds even against a
	// Suggester that ignores its context; a late answer lands in the
	// buffered channel and is dropped.
	done := make(chan result, 1)
	go func() {
		ss, err := c.primary.Suggest(pctx, req)
		done <- result{ss, err}
	}()

	var reason string
	var cause error
	select {
	case r := <-done:
		switch {
		case r.err == nil:
			if cause = Validate(req, r.ss); cause == nil {
				return r.ss, nil
			}
			reason = "invalid"
		case errors.Is(r.err, conversations.ErrInvalid):
			// The request itself is wrong; the fallback would say the same.
			return nil, fmt.Errorf("suggest: chain: %w", r.err)
		case ctx.Err() != nil:
			return nil, fmt.Errorf("suggest: chain: %w", ctx.Err())
		case pctx.Err() != nil:
			reason, cause = "timeout", r.err
		default:
			reason, cause = "error", r.err
		}
	case <-pctx.Done():
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("suggest: chain: %w", err)
		}
		reason, cause = "timeout", pctx.Err()
	}
	cancel()

	c.log.LogAttrs(ctx, slog.LevelWarn, "suggest: primary suggester failed, falling back",
		slog.String("reason", reason),
		conversations.ErrorAttr(cause),
		slog.Duration("elapsed", time.Since(start)),
		slog.Duration("budget", c.budget),
		slog.String("tenant", string(req.Thread.Tenant)),
		slog.String("thread", string(req.Thread.ID)),
	)
	ss, err := c.fallback.Suggest(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("suggest: chain: fallback after primary %s: %w (primary: %w)", reason, err, cause)
	}
	return ss, nil
}
