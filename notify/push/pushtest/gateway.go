package pushtest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/notify/push"
)

// Gateway is a fake of a host's push gateway on loopback: it checks each
// web-hook push's signature (push.VerifyWebhook) and records the pushes it
// accepted, per recipient. Safe for concurrent use.
type Gateway struct {
	srv    *httptest.Server
	secret []byte
	faults *faults
	got    *inbox[Received]

	mu       sync.Mutex
	requests int
	rejected int
}

// Received is one accepted web-hook push.
type Received struct {
	Body     push.WebhookBody
	Delivery string // the X-Fieldtalk-Delivery header
	At       time.Time
}

// NewGateway starts a fake gateway that verifies with secret, and closes
// it when tb's test ends.
func NewGateway(tb testing.TB, secret []byte) *Gateway {
	tb.Helper()
	g := &Gateway{secret: secret, faults: newFaults(), got: newInbox[Received]()}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	tb.Cleanup(g.Close)
	return g
}

// URL is where to point push.WebhookConfig.URL.
func (g *Gateway) URL() string { return g.srv.URL + "/push" }

// Close releases hung requests and shuts the fake down.
func (g *Gateway) Close() {
	g.faults.mu.Lock()
	select {
	case <-g.faults.released:
	default:
		close(g.faults.released)
	}
	g.faults.mu.Unlock()
	g.srv.Close()
}

// Fail makes the next n requests fail with x.
func (g *Gateway) Fail(n int, x Fault) { g.faults.add(n, x) }

// FailAll makes every request fail with x (nil: none).
func (g *Gateway) FailAll(x *Fault) { g.faults.setAlways(x) }

// Requests counts the requests received, whatever came of them.
func (g *Gateway) Requests() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.requests
}

// Rejected counts the requests refused for a bad signature or timestamp.
func (g *Gateway) Rejected() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.rejected
}

// Received returns every accepted push, in order.
func (g *Gateway) Received() []Received { return g.got.list() }

// Next waits for the next push accepted for staff of tenant.
func (g *Gateway) Next(ctx context.Context, tenant, staff string) (Received, error) {
	return g.got.next(ctx, tenant+"/"+staff)
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.requests++
	g.mu.Unlock()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if err := push.VerifyWebhook(g.secret, r.Header, body, time.Now(), 0); err != nil {
		g.mu.Lock()
		g.rejected++
		g.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if x, ok := g.faults.next(); ok {
		g.faults.serve(r.Context(), w, x)
		return
	}
	var b push.WebhookBody
	if err := json.Unmarshal(body, &b); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	g.got.add(b.Tenant+"/"+b.Recipient, Received{Body: b, Delivery: r.Header.Get(push.HeaderDelivery), At: time.Now()})
	w.WriteHeader(http.StatusAccepted)
}
