package llm_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// chatRequest is what the fake reads of a chat-completions request.
type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	ResponseFormat struct {
		Type       string `json:"type"`
		JSONSchema struct {
			Name   string         `json:"name"`
			Strict bool           `json:"strict"`
			Schema map[string]any `json:"schema"`
		} `json:"json_schema"`
	} `json:"response_format"`
}

type recorded struct {
	path   string
	header http.Header
	raw    []byte
	body   chatRequest
}

// fake is a loopback stand-in for an OpenAI-compatible endpoint. Each test
// scripts its answer with respond; the fake records every request.
type fake struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []recorded
	respond func(w http.ResponseWriter, r *http.Request, req chatRequest)
}

func newFake(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, req chatRequest)) *fake {
	t.Helper()
	f := &fake{respond: respond}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var body chatRequest
		if err := json.Unmarshal(raw, &body); err != nil {
			http.Error(w, "fake: request is not JSON: "+err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{path: r.URL.Path, header: r.Header.Clone(), raw: raw, body: body})
		f.mu.Unlock()
		f.respond(w, r, body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) url() string { return f.srv.URL + "/v1" }

func (f *fake) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// completion writes a chat completion whose message content is content.
func completion(w http.ResponseWriter, content string) {
	completionWith(w, content, "stop", "")
}

func completionWith(w http.ResponseWriter, content, finish, refusal string) {
	msg := map[string]any{"role": "assistant", "content": content, "refusal": nil}
	if refusal != "" {
		msg["refusal"] = refusal
		msg["content"] = nil
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id":      "chatcmpl-fake",
		"object":  "chat.completion",
		"created": 1741100000,
		"model":   "fake-model",
		"choices": []any{map[string]any{"index": 0, "finish_reason": finish, "message": msg, "logprobs": nil}},
	})
}

type item struct {
	Text       string  `json:"text"`
	Intent     string  `json:"intent"`
	Confidence float64 `json:"confidence"`
}

func answerJSON(items ...item) string {
	b, _ := json.Marshal(map[string]any{"suggestions": items})
	return string(b)
}

// goodAnswer is a valid answer that states no time.
func goodAnswer() string {
	return answerJSON(
		item{"Thanks for reaching out! Let me check and get right back to you.", "other", 0.7},
		item{"Happy to help. I'll look into this now and text you shortly.", "other", 0.6},
		item{"Got it, thank you. I'll follow up in a moment.", "other", 0.5},
	)
}

func serveGood(w http.ResponseWriter, _ *http.Request, _ chatRequest) { completion(w, goodAnswer()) }
