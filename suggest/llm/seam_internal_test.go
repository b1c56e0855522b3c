package llm

import (
	"context"
	"errors"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// stubChat stands in for the SDK where a fake server cannot produce the
// fault: a client that returns no completion and no error.
type stubChat struct {
	res *openai.ChatCompletion
	err error
}

func (s stubChat) New(context.Context, openai.ChatCompletionNewParams, ...option.RequestOption) (*openai.ChatCompletion, error) {
	return s.res, s.err
}

func TestSDKFaults(t *testing.T) {
	req := conversations.SuggestRequest{Messages: []conversations.Message{{Direction: conversations.DirectionInbound, Body: "hi"}}}
	for name, stub := range map[string]stubChat{
		"nil completion": {},
		"no choices":     {res: &openai.ChatCompletion{}},
	} {
		s, err := New(Config{Model: "m"})
		if err != nil {
			t.Fatal(err)
		}
		s.chat = stub
		if _, err := s.Suggest(context.Background(), req); !errors.Is(err, ErrBadAnswer) {
			t.Errorf("%s: got %v, want ErrBadAnswer", name, err)
		}
	}
	s, _ := New(Config{Model: "m"})
	s.chat = stubChat{err: errors.New("connection reset")}
	if _, err := s.Suggest(context.Background(), req); !errors.Is(err, conversations.ErrUnavailable) {
		t.Errorf("transport error: got %v, want ErrUnavailable", err)
	}
}
