package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/fieldtalk/fieldtalk/channel/channeltest"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/examples/server/host"
	"github.com/fieldtalk/fieldtalk/suggest/suggesttest"
)

// faulty puts fault injection and stalls in front of the stand-in, for the
// conformance suite: the gateway fails the way real gateways do.
type faulty struct {
	next  http.Handler
	calls atomic.Int64

	mu     sync.Mutex
	faults []channeltest.Fault
	stall  bool
}

func (f *faulty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	f.mu.Lock()
	stall := f.stall
	var fault *channeltest.Fault
	if len(f.faults) > 0 {
		fault, f.faults = &f.faults[0], f.faults[1:]
	}
	f.mu.Unlock()
	if stall {
		// The server notices a client that went away only once the body
		// has been read.
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
		return
	}
	if fault == nil {
		f.next.ServeHTTP(w, r)
		return
	}
	fail := func(status int, code string) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "error": "injected " + code})
	}
	switch fault.Class {
	case conversations.Permanent:
		fail(http.StatusBadRequest, "invalid_number")
	case conversations.Retryable:
		w.Header().Set("Retry-After", "7")
		fail(http.StatusTooManyRequests, "rate_limited")
	case conversations.MaybeSent:
		fail(http.StatusBadGateway, "upstream")
	case conversations.OptedOut:
		fail(http.StatusForbidden, "opted_out")
	}
}

func TestGatewayConformance(t *testing.T) {
	channeltest.Run(t, channeltest.Harness{
		New: func(t *testing.T) channeltest.Setup {
			f := &faulty{next: newStandIn("k", io.Discard)}
			srv := httptest.NewServer(f)
			t.Cleanup(srv.Close)
			ch, err := NewGatewaySMS(GatewayConfig{BaseURL: srv.URL, APIKey: "k"})
			if err != nil {
				t.Fatal(err)
			}
			return channeltest.Setup{
				Channel: ch,
				Outbound: conversations.Outbound{Tenant: "t1", Thread: "th1", Channel: conversations.ChannelSMS,
					From: "+15005550006", To: "+15005550999", Body: "Your technician is on the way."},
				Inject: func(fault channeltest.Fault) {
					f.mu.Lock()
					defer f.mu.Unlock()
					f.faults = append(f.faults, fault)
				},
				Stall: func() {
					f.mu.Lock()
					defer f.mu.Unlock()
					f.stall = true
				},
				ProviderCalls: func() int { return int(f.calls.Load()) },
			}
		},
		Features: channeltest.Features{Faults: true, RetryAfter: true, Stall: true, Addressed: true},
	})
}

func TestPhrasebookConformance(t *testing.T) {
	suggesttest.Run(t, func(t *testing.T) conversations.Suggester {
		p, err := AcmePhrasebook()
		if err != nil {
			t.Fatal(err)
		}
		return p
	})
}

// TestSwappedServer runs the example server with both adapters swapped:
// a text sent through the API reaches the gateway, and suggestions come
// from the phrasebook.
func TestSwappedServer(t *testing.T) {
	var out syncBuffer
	cfg := host.Config{
		Addr: "127.0.0.1:0", Database: "sqlite:" + filepath.Join(t.TempDir(), "swap.db"),
		Stdout: &out, PollInterval: 20 * time.Millisecond,
	}
	if err := cfg.Complete(); err != nil {
		t.Fatal(err)
	}
	var (
		srv  *host.Server
		demo *host.Demo
		svc  *conversations.Service
		gw   *standIn
	)
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	app := fxtest.New(t, options(cfg, log, gateway(func(string) string { return "" })), fx.Populate(&srv, &demo, &svc, &gw))
	app.RequireStart()
	defer app.RequireStop()
	ctx := context.Background()

	if _, _, err := svc.Receive(ctx, conversations.InboundMessage{
		Tenant: demo.Tenant, Channel: conversations.ChannelSMS, BusinessNumber: cfg.SMSNumber,
		From: demo.Customer.Phone, Body: "Hi, when are you coming?", ProviderID: "gw-in-1",
	}); err != nil {
		t.Fatal(err)
	}
	tom := demo.Token("tom")
	var inbox struct {
		Threads []struct{ ID string } `json:"threads"`
	}
	call(t, srv.URL(), "GET", "/v1/inbox", tom, nil, http.StatusOK, &inbox)
	if len(inbox.Threads) != 1 {
		t.Fatalf("Tom's inbox = %+v, want the job's thread", inbox)
	}
	thread := inbox.Threads[0].ID

	var ss struct {
		Suggestions []struct{ ID, Text, Intent, Source string } `json:"suggestions"`
	}
	call(t, srv.URL(), "GET", "/v1/threads/"+thread+"/suggestions", tom, nil, http.StatusOK, &ss)
	if len(ss.Suggestions) < 2 || ss.Suggestions[0].Source != "phrasebook" || ss.Suggestions[0].Intent != "eta" {
		t.Fatalf("suggestions = %+v, want the phrasebook's ETA replies", ss.Suggestions)
	}
	var sent struct{ ID, Body string }
	call(t, srv.URL(), "POST", "/v1/suggestions/"+ss.Suggestions[0].ID+"/use", tom, map[string]string{"client_id": "tom/1"}, http.StatusAccepted, &sent)

	deadline := time.Now().Add(20 * time.Second)
	for len(gw.messages()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the text never reached the gateway")
		}
		time.Sleep(10 * time.Millisecond)
	}
	m := gw.messages()[0]
	if m.From != cfg.SMSNumber || m.To != demo.Customer.Phone || m.Text != ss.Suggestions[0].Text || m.Ref != sent.ID {
		t.Fatalf("the gateway got %+v, want the suggestion from %s to %s, ref %s", m, cfg.SMSNumber, demo.Customer.Phone, sent.ID)
	}
	if !strings.Contains(out.String(), "gateway: SMS "+cfg.SMSNumber) {
		t.Fatalf("the stand-in printed nothing:\n%s", out.String())
	}
	// The stand-in's delivery reports bring the message to delivered.
	deadline = time.Now().Add(20 * time.Second)
	for {
		got, err := svc.History(ctx, conversations.Viewer{Tenant: demo.Tenant, Staff: "tom", Role: conversations.RoleTechnician},
			conversations.ThreadID(thread), conversations.HistoryQuery{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if g := got.Messages[0]; g.ProviderID == m.ID && g.Status == conversations.StatusDelivered && !g.SentAt.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway's reports never made the message delivered: %+v\n%s", got.Messages[0], out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}

	// POST /dev/sms plays the customer, as on the console channel.
	var in struct{ Thread, Body string }
	call(t, srv.URL(), "POST", "/dev/sms", "", map[string]string{"from": demo.Customer.Phone, "body": "Thanks!"}, http.StatusCreated, &in)
	if in.Thread != thread || in.Body != "Thanks!" {
		t.Fatalf("/dev/sms filed %+v, want it in thread %s", in, thread)
	}
}

func call(t *testing.T, base, method, path, token string, body any, want int, into any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s answered %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, b)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
