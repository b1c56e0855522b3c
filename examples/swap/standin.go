package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// standIn plays the SMS gateway on loopback, so the example runs with no
// account: it accepts what GatewaySMS sends, prints it, and keeps it.
type standIn struct {
	key string
	w   io.Writer

	mu   sync.Mutex
	sent []standInSMS
}

type standInSMS struct {
	ID, From, To, Text, Ref string
}

func newStandIn(key string, w io.Writer) *standIn { return &standIn{key: key, w: w} }

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/sms" {
		answer(http.StatusNotFound, map[string]string{"code": "not_found", "error": "POST /v1/sms"})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.key {
		answer(http.StatusUnauthorized, map[string]string{"code": "unauthorized", "error": "bad API key"})
		return
	}
	var in struct {
		From, To, Text, Ref string
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil || in.To == "" {
		answer(http.StatusBadRequest, map[string]string{"code": "bad_request", "error": "want JSON with from, to, text"})
		return
	}
	m := standInSMS{ID: "gw_" + conversations.NewID[string](), From: in.From, To: in.To, Text: in.Text, Ref: in.Ref}
	s.mu.Lock()
	s.sent = append(s.sent, m)
	s.mu.Unlock()
	fmt.Fprintf(s.w, "gateway: SMS %s -> %s: %q\n", m.From, m.To, m.Text)
	answer(http.StatusCreated, map[string]any{"id": m.ID, "accepted_at": time.Now().UTC()})
}

// messages returns what the stand-in accepted.
func (s *standIn) messages() []standInSMS {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]standInSMS(nil), s.sent...)
}

// serve runs h on a loopback port until stop is called.
func serve(h http.Handler) (url string, stop func(context.Context) error, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), srv.Shutdown, nil
}
