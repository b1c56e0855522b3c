package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// standIn plays the SMS gateway on loopback, so the example runs with no
// account: it accepts what GatewaySMS sends, prints it, keeps it, and
// reports it sent and then delivered to the status URL the text names, as
// a real gateway's delivery reports would.
type standIn struct {
	key string
	w   io.Writer

	mu      sync.Mutex
	sent    []standInSMS
	reports sync.WaitGroup
	server  func() string // the server's URL, for a status URL that is a path
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
		StatusURL           string `json:"status_url"`
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
	if in.StatusURL != "" {
		s.reports.Add(1)
		go func() {
			defer s.reports.Done()
			s.report(in.StatusURL, m)
		}()
	}
}

// report posts m's delivery reports: sent, then delivered.
func (s *standIn) report(statusURL string, m standInSMS) {
	for _, st := range []string{"sent", "delivered"} {
		time.Sleep(50 * time.Millisecond) // the carrier's part
		b, _ := json.Marshal(report{ID: m.ID, Ref: m.Ref, Status: st, At: time.Now().UTC()})
		target := statusURL
		if strings.HasPrefix(target, "/") && s.server != nil {
			target = s.server() + target
		}
		req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(b))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+s.key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			fmt.Fprintf(s.w, "gateway: report %s for %s failed: %v\n", st, m.ID, err)
			return
		}
		resp.Body.Close()
		fmt.Fprintf(s.w, "gateway: reported %s %s: %d\n", m.ID, st, resp.StatusCode)
	}
}

// wait waits for the reports in flight (the example stops its server after).
func (s *standIn) wait() { s.reports.Wait() }

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
