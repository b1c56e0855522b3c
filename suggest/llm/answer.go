package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/openai/openai-go/v3"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/suggest"
)

// answer is the JSON the schema asks for.
type answer struct {
	Suggestions *[]answerItem `json:"suggestions"`
}

type answerItem struct {
	Text       *string  `json:"text"`
	Intent     *string  `json:"intent"`
	Confidence *float64 `json:"confidence"`
}

// markup finds an HTML/XML tag. SMS replies have no use for one, and a
// reply made of tags is a model that followed instructions hidden in a
// customer's text.
var markup = regexp.MustCompile(`</?[A-Za-z][A-Za-z0-9_:-]*(\s[^<>]*)?/?>`)

// decode turns the model's answer into suggestions, or says what is wrong
// with it. Nothing is repaired: a wrong answer is an error.
func (s *Suggester) decode(req conversations.SuggestRequest, in conversations.Message, res *openai.ChatCompletion) ([]conversations.Suggestion, error) {
	if res == nil || len(res.Choices) == 0 {
		return nil, errors.New("no choices")
	}
	ch := res.Choices[0]
	if ch.Message.Refusal != "" {
		return nil, errors.New("the model refused")
	}
	if ch.FinishReason == "length" {
		return nil, errors.New("answer cut off at the token limit")
	}
	dec := json.NewDecoder(strings.NewReader(ch.Message.Content))
	dec.DisallowUnknownFields()
	var a answer
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("not JSON of the requested shape: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON answer")
	}
	if a.Suggestions == nil {
		return nil, errors.New(`no "suggestions"`)
	}
	now := s.now()
	out := make([]conversations.Suggestion, 0, len(*a.Suggestions))
	for i, it := range *a.Suggestions {
		if it.Text == nil || it.Intent == nil || it.Confidence == nil {
			return nil, fmt.Errorf("suggestion %d lacks text, intent or confidence", i)
		}
		text := strings.TrimSpace(*it.Text)
		if m := markup.FindString(text); m != "" {
			return nil, fmt.Errorf("suggestion %d contains markup %q", i, m)
		}
		intent := conversations.Intent(*it.Intent)
		out = append(out, conversations.Suggestion{
			ID:         conversations.NewID[conversations.SuggestionID](),
			Tenant:     req.Viewer.Tenant,
			Thread:     req.Thread.ID,
			ForMessage: in.ID,
			Viewer:     req.Viewer.Staff,
			Text:       text,
			Intent:     intent,
			Confidence: *it.Confidence,
			Urgent:     intent == conversations.IntentEmergency,
			Source:     Source,
			State:      conversations.SuggestionOffered,
			CreatedAt:  now,
		})
	}
	if err := suggest.Validate(req, out); err != nil {
		return nil, err
	}
	return out, nil
}
