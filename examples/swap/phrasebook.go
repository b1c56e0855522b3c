package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Phrasebook is your own conversations.Suggester: the business's saved
// replies, picked by keywords in the customer's last message. What the
// Suggester contract asks of it, and suggesttest checks: two or three
// distinct replies with an intent and a confidence; ErrInvalid when there
// is nothing to answer; ctx honoured; no arrival time the job lacks (saved
// replies promise none).
type Phrasebook struct {
	entries []Phrase
	general []string
}

// Phrase is a group of saved replies and the words that call for them.
type Phrase struct {
	Keywords []string
	Intent   conversations.Intent
	Replies  []string
}

var _ conversations.Suggester = (*Phrasebook)(nil)

// NewPhrasebook returns a Phrasebook; general replies fill in when no
// phrase matches or a phrase has too few.
func NewPhrasebook(entries []Phrase, general []string) (*Phrasebook, error) {
	if len(general) < conversations.MinSuggestions {
		return nil, conversations.Invalid("general", fmt.Sprintf("at least %d general replies", conversations.MinSuggestions))
	}
	return &Phrasebook{entries: entries, general: general}, nil
}

// AcmePhrasebook is the demo business's saved replies.
func AcmePhrasebook() (*Phrasebook, error) {
	return NewPhrasebook([]Phrase{
		{Keywords: []string{"when", "eta", "coming", "arrive"}, Intent: conversations.IntentETA, Replies: []string{
			"Your technician is on today's schedule; we'll text you as soon as they're on the way.",
			"Thanks for checking! We'll send you a text when your technician heads over.",
		}},
		{Keywords: []string{"cancel", "reschedule", "another day"}, Intent: conversations.IntentReschedule, Replies: []string{
			"No problem, what day works better for you?",
			"We can move your visit. Would later this week suit you?",
		}},
		{Keywords: []string{"thanks", "thank you", "great job"}, Intent: conversations.IntentThanks, Replies: []string{
			"You're welcome! Thanks for choosing us.",
			"Happy to help. Have a great day!",
		}},
	}, []string{"Thanks for your message, we'll get back to you shortly.", "Got it, thank you!", "Could you tell us a bit more?"})
}

// Suggest answers the last inbound message of req.
func (p *Phrasebook) Suggest(ctx context.Context, req conversations.SuggestRequest) ([]conversations.Suggestion, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("phrasebook: %w", err)
	}
	in, err := req.ToAnswer()
	if err != nil {
		return nil, fmt.Errorf("phrasebook: %w", err)
	}
	text := strings.ToLower(in.Body)
	var out []conversations.Suggestion
	add := func(reply string, intent conversations.Intent, confidence float64) {
		if len(out) < conversations.MaxSuggestions {
			out = append(out, conversations.Suggestion{Text: reply, Intent: intent, Confidence: confidence, Source: "phrasebook"})
		}
	}
	for _, e := range p.entries {
		if containsAny(text, e.Keywords) {
			for _, r := range e.Replies {
				add(r, e.Intent, 0.8)
			}
			break
		}
	}
	for _, r := range p.general {
		if len(out) < conversations.MinSuggestions {
			add(r, conversations.IntentOther, 0.3)
		}
	}
	return out, nil
}

func containsAny(text string, words []string) bool {
	for _, w := range words {
		if strings.Contains(text, w) {
			return true
		}
	}
	return false
}
