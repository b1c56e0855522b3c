package inapp_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/notify"
	"github.com/fieldtalk/fieldtalk/notify/inapp"
)

// authenticate reads the test's "Authorization: Viewer tenant/staff/role".
func authenticate(r *http.Request) (conversations.Viewer, error) {
	v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Viewer ")
	if !ok {
		return conversations.Viewer{}, errors.New("no viewer")
	}
	parts := strings.Split(v, "/")
	if len(parts) != 3 {
		return conversations.Viewer{}, errors.New("malformed viewer")
	}
	return conversations.Viewer{Tenant: conversations.TenantID(parts[0]), Staff: conversations.StaffID(parts[1]), Role: conversations.Role(parts[2])}, nil
}

func authHeader(v conversations.Viewer) string {
	return fmt.Sprintf("Viewer %s/%s/%s", v.Tenant, v.Staff, v.Role)
}

// sseEvent is one event as a client sees it.
type sseEvent struct {
	ID    string
	HasID bool
	Event string
	Data  string
}

func (e sseEvent) payload(t testing.TB) notify.Payload {
	t.Helper()
	var p notify.Payload
	require.NoError(t, json.Unmarshal([]byte(e.Data), &p), "event data is JSON: %s", e.Data)
	return p
}

func (e sseEvent) marker(t testing.TB) inapp.Marker {
	t.Helper()
	var m inapp.Marker
	require.NoError(t, json.Unmarshal([]byte(e.Data), &m), "marker data is JSON: %s", e.Data)
	return m
}

// sseClient is one device's stream, parsed as the SSE spec says.
type sseClient struct {
	resp     *http.Response
	events   chan sseEvent
	done     chan struct{}
	err      error
	comments atomic.Int64
	lastID   string // the EventSource lastEventId: what a reconnect sends
	mu       sync.Mutex
}

func dial(t testing.TB, url string, v conversations.Viewer, lastEventID string) *sseClient {
	t.Helper()
	c, err := dialErr(context.Background(), http.DefaultClient, url, v, lastEventID)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func dialErr(ctx context.Context, hc *http.Client, url string, v conversations.Viewer, lastEventID string) (*sseClient, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", authHeader(v))
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	return newSSEClient(resp, lastEventID), nil
}

// newSSEClient parses resp's body as a stream that was asked for with
// lastEventID.
func newSSEClient(resp *http.Response, lastEventID string) *sseClient {
	c := &sseClient{resp: resp, events: make(chan sseEvent, 4096), done: make(chan struct{}), lastID: lastEventID}
	go c.read()
	return c
}

func (c *sseClient) read() {
	defer close(c.done)
	br := bufio.NewReader(c.resp.Body)
	var ev sseEvent
	var data []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			c.err = err
			return
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.HasID {
				c.mu.Lock()
				c.lastID = ev.ID
				c.mu.Unlock()
			}
			if len(data) > 0 {
				ev.Data = strings.Join(data, "\n")
				c.events <- ev
			}
			ev, data = sseEvent{}, nil
		case strings.HasPrefix(line, ":"):
			c.comments.Add(1)
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				ev.ID, ev.HasID = value, true
			case "event":
				ev.Event = value
			case "data":
				data = append(data, value)
			}
		}
	}
}

// LastEventID is what EventSource would send on reconnecting.
func (c *sseClient) LastEventID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastID
}

func (c *sseClient) Close() { c.resp.Body.Close() }

// next returns the next event, or an error when the stream ended or ctx did.
func (c *sseClient) next(ctx context.Context) (sseEvent, error) {
	select {
	case ev := <-c.events:
		return ev, nil
	case <-ctx.Done():
		return sseEvent{}, ctx.Err()
	case <-c.done:
		select {
		case ev := <-c.events:
			return ev, nil
		default:
		}
		if c.err == nil {
			c.err = io.EOF
		}
		return sseEvent{}, c.err
	}
}

// Next returns the next notification event (skipping ready and resync).
func (c *sseClient) nextNote(ctx context.Context) (sseEvent, error) {
	for {
		ev, err := c.next(ctx)
		if err != nil || (ev.Event != inapp.EventReady && ev.Event != inapp.EventResync) {
			return ev, err
		}
	}
}

func (c *sseClient) mustNext(t testing.TB) sseEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev, err := c.next(ctx)
	require.NoError(t, err, "waiting for an event")
	return ev
}

func (c *sseClient) mustNote(t testing.TB) sseEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev, err := c.nextNote(ctx)
	require.NoError(t, err, "waiting for a notification")
	return ev
}

// mustReady waits for the ready event that says the stream is live.
func (c *sseClient) mustReady(t testing.TB) sseEvent {
	t.Helper()
	ev := c.mustNext(t)
	require.Equal(t, inapp.EventReady, ev.Event, "the first event: %+v", ev)
	return ev
}

// quiet asserts that nothing arrives for a while.
func (c *sseClient) quiet(t testing.TB, d time.Duration, why string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if ev, err := c.next(ctx); err == nil {
		t.Errorf("%s: got %+v", why, ev)
	}
}

// ended reports whether the server closed the stream within d.
func (c *sseClient) ended(d time.Duration) bool {
	select {
	case <-c.done:
		return true
	case <-time.After(d):
		return false
	}
}

// faultLog wraps a Log with the faults the conformance suite injects.
type faultLog struct {
	inapp.Log
	broken  atomic.Bool
	stalled atomic.Bool
}

var errBroken = errors.New("faultlog: database down")

func (f *faultLog) AppendNotification(ctx context.Context, n conversations.Notification) (conversations.Notification, error) {
	if f.broken.Load() {
		return conversations.Notification{}, errBroken
	}
	if f.stalled.Load() {
		<-ctx.Done()
		return conversations.Notification{}, ctx.Err()
	}
	return f.Log.AppendNotification(ctx, n)
}

// newServer serves hub on loopback.
func newServer(t testing.TB, hub *inapp.Hub) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(hub)
	t.Cleanup(func() {
		_ = hub.Close()
		srv.Close()
	})
	return srv
}
