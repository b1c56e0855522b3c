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
	langs map[string]*language // the replies, by language
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
	langs, err := loadLanguages()
	if err != nil {
		return nil, err
	}
	s := &Suggester{cfg: cfg, cl: cl, langs: langs, now: time.Now, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Suggest implements conversations.Suggester. It answers the request's last
// inbound message, in the customer's language when it has replies in it
// (English otherwise), and says in Suggestion.Language what it detected. A
// request whose ToAnswer fails is an error wrapping conversations.ErrInvalid.
func (s *Suggester) Suggest(ctx context.Context, req conversations.SuggestRequest) ([]conversations.Suggestion, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("rules: suggest: %w", err)
	}
	in, err := req.ToAnswer()
	if err != nil {
		return nil, fmt.Errorf("rules: suggest: %w", err)
	}
	now := req.Now
	if now.IsZero() {
		now = s.now()
	}
	cls := s.cl.classify(in.Body)
	lang, ok := s.langs[cls.language]
	if !ok {
		lang = s.langs[fallbackLanguage]
	}
	f := s.facts(req, in, now, lang)
	f.hazard = cls.hazard
	s.readText(&f, cls, req, now, lang)
	// One more than asked for, in case two fill in alike.
	replies := func(in conversations.Intent) []string { return lang.render(in, &f, s.cfg.Suggestions+1) }

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
		key := conversations.FoldSuggestion(text)
		if len(picks) == s.cfg.Suggestions || seen[key] || utf8.RuneCountInString(text) > conversations.MaxSuggestionLength {
			return false
		}
		seen[key] = true
		picks = append(picks, pick{text, in, conf})
		return true
	}

	primary := replies(cls.intent)
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
		for _, text := range replies(second) {
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
	// Every intent has replies with no conditions, so this only runs when
	// names or addresses made them too long to send.
	for _, text := range replies(conversations.IntentOther) {
		if len(picks) >= conversations.MinSuggestions {
			break
		}
		add(text, cls.intent, 0.3)
	}

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
			Language:   cls.language,
			State:      conversations.SuggestionOffered,
			CreatedAt:  now,
		}
	}
	return out, nil
}
