package inapp_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/notify/inapp"
	"github.com/fieldtalk/fieldtalk/notify/push"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
)

// revocationWorld is a world whose Tom sees customer thread t1 (by one of
// the revocations' grants) and takes part in customer thread t2, which he
// keeps throughout.
type revocationWorld struct {
	*world
	db     *store.DB
	t1, t2 conversations.ThreadID
}

// revocations are the three ways Tom loses t1.
var revocations = []struct {
	name   string
	grant  func(t *testing.T, w *revocationWorld)
	revoke func(t *testing.T, w *revocationWorld)
}{
	{
		name: "unassign",
		grant: func(t *testing.T, w *revocationWorld) {
			w.linkAndAssign(t)
		},
		revoke: func(t *testing.T, w *revocationWorld) {
			require.NoError(t, w.svc.Unassign(context.Background(), w.tenant, "job-1", w.tom.Staff))
		},
	},
	{
		name: "unlink job",
		grant: func(t *testing.T, w *revocationWorld) {
			w.linkAndAssign(t)
		},
		revoke: func(t *testing.T, w *revocationWorld) {
			require.NoError(t, w.svc.UnlinkJob(context.Background(), w.disp, w.t1, "job-1"))
		},
	},
	{
		name: "remove participant",
		grant: func(t *testing.T, w *revocationWorld) {
			require.NoError(t, w.svc.AddParticipants(context.Background(), w.disp, w.t1, w.tom.Staff))
		},
		revoke: func(t *testing.T, w *revocationWorld) {
			require.NoError(t, w.svc.RemoveParticipant(context.Background(), w.disp, w.t1, w.tom.Staff))
		},
	},
}

func (w *revocationWorld) linkAndAssign(t *testing.T) {
	ctx := context.Background()
	require.NoError(t, w.db.PutJob(ctx, conversations.JobContext{Tenant: w.tenant, ID: "job-1"}))
	require.NoError(t, w.svc.LinkJob(ctx, w.disp, w.t1, "job-1"))
	require.NoError(t, w.svc.Assign(ctx, w.tenant, "job-1", w.tom.Staff))
}

// TestRevokedThreadsLeaveTheStreamAndPush: after each revocation, on both
// databases, neither the stream's replay nor its live events nor a push
// waiting for a retry show Tom anything of the thread he lost, though all
// of it was logged or queued while he could see it; his client's position
// still moves past what was withheld, and he keeps the rest (badges, the
// thread he still has).
func TestRevokedThreadsLeaveTheStreamAndPush(t *testing.T) {
	for _, rv := range revocations {
		t.Run(rv.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				access, err := conversations.NewThreadAccess(db, policy.Default())
				require.NoError(t, err)
				hub, err := inapp.New(inapp.Config{Log: db, Authenticate: authenticate, Visibility: access})
				require.NoError(t, err)
				srv := newServer(t, hub)
				w := &revocationWorld{world: newWorld(t, db, hub), db: db}
				w.t1 = w.inbound(t, "+15005550101", "Is the tech coming?").Thread
				w.t2 = w.inbound(t, "+15005550202", "Gate code 4321").Thread
				require.NoError(t, w.svc.AddParticipants(ctx, w.disp, w.t2, w.tom.Staff))
				rv.grant(t, w)

				// Tom's phone hears of t1 while he may see it.
				phone := dial(t, srv.URL, w.tom, "")
				start := phone.mustReady(t).ID
				w.inbound(t, "+15005550101", "The dog is friendly")
				ev := phone.mustNote(t)
				require.Equal(t, string(w.t1), ev.payload(t).Thread, "before the revocation Tom hears of t1")
				phone.Close()

				// An event for t1 logged (not yet read by the hub) before the
				// revocation, on a live stream.
				live := dial(t, srv.URL, w.tom, "")
				live.mustReady(t)
				msg := conversations.Message{ID: "m-waiting", Tenant: w.tenant, Thread: w.t1, Body: "logged before the revocation"}
				waiting, err := db.AppendNotification(ctx, conversations.Notification{
					Tenant: w.tenant, Recipient: w.tom.Staff, Type: conversations.EventMessage, Thread: w.t1, Message: &msg, At: time.Now(),
				})
				require.NoError(t, err)

				rv.revoke(t, w)

				// Live: the waiting event is withheld; the revocation's badge
				// comes through, and the client's position is past both.
				ev = live.mustNote(t)
				assert.Equal(t, string(conversations.EventBadge), ev.Event, "the revocation's badge, and not the waiting t1 event")
				assert.Greater(t, ev.ID, waiting.ID)
				w.inbound(t, "+15005550101", "Hello? (after the revocation)")
				w.inbound(t, "+15005550202", "Still there?")
				ev = live.mustNote(t)
				assert.Equal(t, string(w.t2), ev.payload(t).Thread, "Tom still hears of the thread he keeps")
				latest, err := db.LatestNotificationID(ctx, w.tenant, w.tom.Staff)
				require.NoError(t, err)
				assert.Equal(t, latest, live.LastEventID(), "the live client's position is the newest id")
				live.quiet(t, 100*time.Millisecond, "nothing of t1 follows")

				// Replay from before it all: every t1 event is withheld, the
				// rest is replayed, and the position ends at the newest id.
				again := dial(t, srv.URL, w.tom, start)
				var replayed []string
				for {
					ev := again.mustNext(t)
					if ev.Event == inapp.EventReady {
						break
					}
					p := ev.payload(t)
					assert.NotEqual(t, string(w.t1), p.Thread, "replay shows nothing of t1: %s", ev.Data)
					replayed = append(replayed, ev.Event)
				}
				assert.Contains(t, replayed, string(conversations.EventBadge), "badge events are replayed")
				assert.Contains(t, replayed, string(conversations.EventMessage), "t2's messages are replayed")
				assert.Equal(t, latest, again.LastEventID(), "after the replay the client's position is the newest id")

				// A reconnect from a withheld id continues after it.
				tail := dial(t, srv.URL, w.tom, waiting.ID)
				for {
					ev := tail.mustNext(t)
					if ev.Event == inapp.EventReady {
						break
					}
					assert.NotEqual(t, string(w.t1), ev.payload(t).Thread)
				}

				// Push: a push queued before the revocation (its first attempt
				// refused for now) is not sent once Tom has lost the thread; a
				// badge push still is.
				gw := &gateway{revoke: func() { rv.revoke(t, w) }}
				gwSrv := httptest.NewServer(gw)
				t.Cleanup(gwSrv.Close)
				wh, err := push.NewWebhook(push.WebhookConfig{URL: gwSrv.URL, Secret: []byte("0123456789abcdef0123")},
					push.WithVisibility(access), push.WithBackoff(time.Millisecond, time.Millisecond))
				require.NoError(t, err)
				rv.grant(t, w) // Tom may see t1 again, until the gateway's first answer
				n := conversations.Notification{Tenant: w.tenant, Recipient: w.tom.Staff, Type: conversations.EventMessage, Thread: w.t1, Message: &msg, Badge: 1}
				require.NoError(t, wh.Notify(ctx, n))
				assert.Equal(t, []string{string(w.t1)}, gw.got(), "one attempt while Tom could see t1, no retry after")
				require.NoError(t, wh.Notify(ctx, conversations.Notification{Tenant: w.tenant, Recipient: w.tom.Staff, Type: conversations.EventBadge, Thread: w.t1}))
				assert.Equal(t, []string{string(w.t1), string(w.t1)}, gw.got(), "a badge push goes")
			})
		})
	}
}

// gateway is a push gateway whose first answer is 503, after it has run
// revoke (so the push waits for a retry across the revocation); later
// answers are 200. It records the thread of every post.
type gateway struct {
	revoke  func()
	mu      sync.Mutex
	threads []string
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b push.WebhookBody
	raw, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(raw, &b)
	g.mu.Lock()
	g.threads = append(g.threads, b.Payload.Thread)
	first := len(g.threads) == 1
	g.mu.Unlock()
	if first {
		g.revoke()
		w.WriteHeader(http.StatusServiceUnavailable)
	}
}

func (g *gateway) got() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.threads...)
}
