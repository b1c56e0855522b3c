package suggest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/suggest"
	"github.com/fieldtalk/fieldtalk/suggest/rules"
)

// downModel stands in for an llm.Suggester whose endpoint is down.
type downModel struct{}

func (downModel) Suggest(context.Context, conversations.SuggestRequest) ([]conversations.Suggestion, error) {
	return nil, &conversations.ProviderError{Provider: "llm", Op: "suggest", Class: conversations.Retryable, Err: errors.New("connection refused")}
}

func ExampleChain() {
	fallback, err := rules.New(rules.Config{Business: "Birchwood Plumbing"})
	if err != nil {
		panic(err)
	}
	// In a host: primary, _ := llm.New(llm.Config{BaseURL: ..., APIKey: ..., Model: ...})
	chain, err := suggest.NewChain(suggest.ChainConfig{Primary: downModel{}, Fallback: fallback, Budget: 800 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	ss, err := chain.Suggest(context.Background(), conversations.SuggestRequest{
		Messages: []conversations.Message{{Direction: conversations.DirectionInbound, Body: "thx so much!!"}},
	})
	if err != nil {
		panic(err)
	}
	for _, s := range ss {
		fmt.Printf("%s/%s: %s\n", s.Source, s.Intent, s.Text)
	}
	// Output:
	// rules/thanks: You're very welcome! Thanks for choosing Birchwood Plumbing.
	// rules/thanks: Glad we could help! Reach out anytime if you need anything else.
	// rules/thanks: Thank you! If you have a minute, we'd really appreciate a review.
}
