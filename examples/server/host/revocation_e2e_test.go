package host_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/examples/server/host"
	"github.com/fieldtalk/fieldtalk/notify/push/pushtest"
)

// TestRevocationEndToEnd: a technician who loses a customer thread (he is
// unassigned from its job, the job is unlinked, or he is removed as a
// participant) loses it everywhere at once, over HTTP and the event stream,
// on both databases: the inbox, the badge, the thread, its history,
// suggestions, his draft on it, replying, the live stream, a replay from
// before the revocation, and push.
func TestRevocationEndToEnd(t *testing.T) {
	ctx := context.Background()
	for _, rv := range []struct {
		name          string
		grant, revoke func(r *running, thread conversations.ThreadID) error
	}{
		{
			name:  "unassign",
			grant: func(*running, conversations.ThreadID) error { return nil },
			revoke: func(r *running, _ conversations.ThreadID) error {
				return r.svc.Unassign(ctx, r.demo.Tenant, r.demo.Job, "tom")
			},
		},
		{
			name:  "unlink job",
			grant: func(*running, conversations.ThreadID) error { return nil },
			revoke: func(r *running, th conversations.ThreadID) error {
				return r.svc.UnlinkJob(ctx, dana(r), th, r.demo.Job)
			},
		},
		{
			name: "remove participant",
			grant: func(r *running, th conversations.ThreadID) error {
				if err := r.svc.Unassign(ctx, r.demo.Tenant, r.demo.Job, "tom"); err != nil {
					return err
				}
				return r.svc.AddParticipants(ctx, dana(r), th, "tom")
			},
			revoke: func(r *running, th conversations.ThreadID) error {
				return r.svc.RemoveParticipant(ctx, dana(r), th, "tom")
			},
		},
	} {
		t.Run(rv.name, func(t *testing.T) {
			databases(t, func(t *testing.T, db database) {
				const pushSecret = "0123456789abcdef0123"
				gw := pushtest.NewGateway(t, []byte(pushSecret))
				r := start(t, host.Config{Database: db.dsn, Citus: db.citus, Push: host.PushConfig{WebhookURL: gw.URL(), WebhookSecret: pushSecret}})
				tom := r.demo.Token("tom")
				in := decodeAs[message](t, r, "POST", "/dev/sms", "", map[string]string{"from": r.demo.Customer.Phone, "body": "Is 9am still ok?"}, http.StatusCreated)
				th := conversations.ThreadID(in.Thread)
				if err := rv.grant(r, th); err != nil {
					t.Fatal(err)
				}

				// Before: Tom sees the thread, live and by push.
				live := openStream(t, r, tom, "")
				start := live.next(t, "ready").ID
				decodeAs[message](t, r, "POST", "/dev/sms", "", map[string]string{"from": r.demo.Customer.Phone, "body": "Gate code is 4321"}, http.StatusCreated)
				if ev := live.next(t, "message"); !strings.Contains(ev.Data, in.Thread) {
					t.Fatalf("before the revocation Tom hears of the thread: %+v", ev)
				}
				eventually(t, "Tom's phone gets a push for the thread", func() bool { return pushesFor(gw, "tom", in.Thread) > 0 })
				r.call(t, "GET", "/v1/threads/"+in.Thread+"/suggestions", tom, nil, http.StatusOK)
				d := decodeAs[draft](t, r, "POST", "/v1/drafts", tom, map[string]any{"thread": in.Thread, "body": "Running late"}, http.StatusCreated)

				if err := rv.revoke(r, th); err != nil {
					t.Fatal(err)
				}
				pushes := pushesFor(gw, "tom", in.Thread)

				for _, got := range r.inbox(t, tom) {
					if got.ID == in.Thread {
						t.Fatalf("the inbox still lists the thread")
					}
				}
				if b := r.badge(t, tom); b != 0 {
					t.Fatalf("badge = %d, want 0", b)
				}
				for _, c := range []struct{ method, path string }{
					{"GET", "/v1/threads/" + in.Thread},
					{"GET", "/v1/threads/" + in.Thread + "/messages"},
					{"GET", "/v1/threads/" + in.Thread + "/suggestions"},
					{"GET", "/v1/drafts/" + d.ID},
					{"POST", "/v1/threads/" + in.Thread + "/read"},
				} {
					r.expectError(t, c.method, c.path, tom, map[string]any{"seq": 1}, http.StatusForbidden, "forbidden")
				}
				r.expectError(t, "POST", "/v1/threads/"+in.Thread+"/messages", tom, map[string]string{"body": "On my way", "client_id": "tom/9"}, http.StatusForbidden, "forbidden")

				// Live: the revocation's badge comes, then nothing of the thread.
				live.next(t, "badge")
				decodeAs[message](t, r, "POST", "/dev/sms", "", map[string]string{"from": r.demo.Customer.Phone, "body": "Hello? (after)"}, http.StatusCreated)
				live.none(t, 300*time.Millisecond, in.Thread)
				if got := pushesFor(gw, "tom", in.Thread); got != pushes {
					t.Fatalf("Tom got %d more pushes for the thread after the revocation", got-pushes)
				}

				// Replay from before it all: nothing of the thread, badges
				// kept, and the position ends at the newest id.
				again := openStream(t, r, tom, start)
				var badges int
				for {
					ev := again.next(t, "message", "status", "read", "badge", "ready", "resync")
					if ev.Event == "ready" {
						break
					}
					if strings.Contains(ev.Data, in.Thread) && ev.Event != "badge" {
						t.Fatalf("the replay shows the revoked thread: %+v", ev)
					}
					if ev.Event == "badge" {
						badges++
					}
				}
				if badges == 0 {
					t.Fatalf("the replay left out the badge events")
				}
				if latest, err := r.db.LatestNotificationID(ctx, r.demo.Tenant, "tom"); err != nil || again.lastID() != latest {
					t.Fatalf("after the replay the client's Last-Event-ID is %q, want the newest %q (%v)", again.lastID(), latest, err)
				}
			})
		})
	}
}

func dana(r *running) conversations.Viewer {
	return conversations.Viewer{Tenant: r.demo.Tenant, Staff: "dana", Role: conversations.RoleDispatcher}
}

// sseStream is an event stream read as EventSource reads it, Last-Event-ID
// included (an id without data moves it and dispatches nothing).
type sseStream struct {
	events chan sseEvent
	mu     sync.Mutex
	last   string
}

func openStream(t *testing.T, r *running, token, lastEventID string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", r.url+"/v1/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := r.ct.client().Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		t.Fatalf("stream answered %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &sseStream{events: make(chan sseEvent, 256), last: lastEventID}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		hasID := false
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if hasID {
					s.mu.Lock()
					s.last = ev.ID
					s.mu.Unlock()
				}
				if ev.Event != "" || ev.Data != "" {
					r.ct.checkEvent(ev)
					s.events <- ev
				}
				ev, hasID = sseEvent{}, false
			case strings.HasPrefix(line, "id: "):
				ev.ID, hasID = line[4:], true
			case strings.HasPrefix(line, "event: "):
				ev.Event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.Data += line[6:]
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-done
	})
	return s
}

func (s *sseStream) next(t *testing.T, types ...string) sseEvent {
	t.Helper()
	return next(t, s.events, types...)
}

func (s *sseStream) lastID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// none checks that no event naming thread (other than a badge) arrives
// within d.
func (s *sseStream) none(t *testing.T, d time.Duration, thread string) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev := <-s.events:
			if ev.Event != "badge" && strings.Contains(ev.Data, thread) {
				t.Fatalf("the stream shows the revoked thread: %+v", ev)
			}
		case <-timeout:
			return
		}
	}
}

// pushesFor counts the pushes gw accepted for staff about thread, badge
// pushes left out.
func pushesFor(gw *pushtest.Gateway, staff, thread string) int {
	n := 0
	for _, p := range gw.Received() {
		if p.Body.Recipient == staff && p.Body.Thread == thread && p.Body.Type != string(conversations.EventBadge) {
			n++
		}
	}
	return n
}
