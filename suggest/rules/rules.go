package rules

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/suggest"
)

// Source is the Suggestion.Source of everything this package suggests.
const Source = "rules"

// Config configures a Suggester. The zero value is ready to use.
type Config struct {
	// Business is the display name replies use when neither the request nor
	// the job names the business.
	Business string
	// Suggestions is how many suggestions to return: 2 or 3; 0 means 3.
	Suggestions int
}

// Option configures a Suggester.
type Option func(*Suggester)

// WithClock sets the clock that decides "today", "tomorrow" and whether a
// job's ETA has passed; the default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Suggester) {
		if now != nil {
			s.now = now
		}
	}
}

// WithLogger sets where the Suggester logs (an unknown time zone); the
// default discards.
func WithLogger(l *slog.Logger) Option {
	return func(s *Suggester) {
		if l != nil {
			s.log = l
		}
	}
}

// Suggester is the rule-based conversations.Suggester. It is safe for
// concurrent use.
type Suggester struct {
	cfg   Config
	cl    *classifier
	now   func() time.Time
	log   *slog.Logger
	zones sync.Map // time zone name → *time.Location
}

var _ conversations.Suggester = (*Suggester)(nil)

// New returns a Suggester. It returns an error wrapping
// conversations.ErrInvalid when cfg.Suggestions is neither 0, 2 nor 3.
func New(cfg Config, opts ...Option) (*Suggester, error) {
	if cfg.Suggestions == 0 {
		cfg.Suggestions = conversations.MaxSuggestions
	}
	if cfg.Suggestions < conversations.MinSuggestions || cfg.Suggestions > conversations.MaxSuggestions {
		return nil, fmt.Errorf("rules: new: %w", conversations.Invalid("suggestions", "must be 2 or 3"))
	}
	cl, err := newClassifier()
	if err != nil {
		return nil, err
	}
	s := &Suggester{cfg: cfg, cl: cl, now: time.Now, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Suggest implements conversations.Suggester. It answers the request's last
// inbound message; a request without one is an error wrapping
// conversations.ErrInvalid.
func (s *Suggester) Suggest(ctx context.Context, req conversations.SuggestRequest) ([]conversations.Suggestion, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("rules: suggest: %w", err)
	}
	in, ok := req.LastInbound()
	if !ok {
		return nil, fmt.Errorf("rules: suggest: %w", conversations.Invalid("messages", "no inbound message to answer"))
	}
	cls := s.cl.classify(in.Body)
	f := s.facts(req, in)

	type pick struct {
		text   string
		intent conversations.Intent
		conf   float64
	}
	var picks []pick
	seen := map[string]bool{}
	add := func(text string, in conversations.Intent, conf float64) bool {
		if f.author != "" {
			text += " – " + f.author
		}
		key := suggest.Fold(text)
		if len(picks) == s.cfg.Suggestions || seen[key] || utf8.RuneCountInString(text) > conversations.MaxSuggestionLength {
			return false
		}
		seen[key] = true
		picks = append(picks, pick{text, in, conf})
		return true
	}

	primary := replies(cls.intent, f, cls.hazard)
	// Answer the top intent twice; when the text carried a second intent
	// (and is not an emergency), the last suggestion answers that one, so a
	// misread still leaves the sender a useful reply.
	want := s.cfg.Suggestions
	if len(cls.also) > 0 && cls.intent != conversations.IntentEmergency {
		want--
	}
	for i, text := range primary {
		if len(picks) == want {
			break
		}
		add(text, cls.intent, max(cls.confidence-0.05*float64(i), 0))
	}
	if len(cls.also) > 0 && cls.intent != conversations.IntentEmergency {
		second := cls.also[0]
		for _, text := range replies(second, f, hazardNone) {
			if add(text, second, max(cls.confidence-0.25, 0)) {
				break
			}
		}
	}
	for i, text := range primary {
		if len(picks) == s.cfg.Suggestions {
			break
		}
		add(text, cls.intent, max(cls.confidence-0.05*float64(i), 0))
	}
	// Every template list has three short entries, so this only runs when
	// names or addresses made them too long to send.
	for _, text := range []string{
		"Thanks for your message! I'll get back to you shortly.",
		"Got it — let me look into this and reply in a moment.",
	} {
		if len(picks) >= conversations.MinSuggestions {
			break
		}
		add(text, cls.intent, 0.3)
	}

	now := s.now()
	out := make([]conversations.Suggestion, len(picks))
	for i, p := range picks {
		out[i] = conversations.Suggestion{
			ID:         conversations.NewID[conversations.SuggestionID](),
			Tenant:     req.Viewer.Tenant,
			Thread:     req.Thread.ID,
			ForMessage: in.ID,
			Viewer:     req.Viewer.Staff,
			Text:       strings.TrimSpace(p.text),
			Intent:     p.intent,
			Confidence: p.conf,
			Urgent:     p.intent == conversations.IntentEmergency,
			Source:     Source,
			State:      conversations.SuggestionOffered,
			CreatedAt:  now,
		}
	}
	return out, nil
}
