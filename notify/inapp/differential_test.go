package inapp_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/notify/inapp"
	"github.com/fieldtalk/fieldtalk/store"
)

// TestStreamedBadgesMatchTheService is the differential test of the badges
// on the stream: after a random sequence of inbound messages, reads, assigns
// and unassigns, the last badge each connected viewer's stream carried is
// Service.Badge for that viewer. Every viewer is connected: the dispatcher
// and the admin, who see every customer thread, and two technicians whose
// threads come and go with their assignments.
func TestStreamedBadgesMatchTheService(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		hub, err := inapp.New(inapp.Config{Log: db, Authenticate: authenticate})
		require.NoError(t, err)
		srv := newServer(t, hub)
		w := newWorld(t, db, hub)
		viewers := []conversations.Viewer{w.disp, w.admin, w.tom, w.tara}
		streams := map[conversations.StaffID]*sseClient{}
		for _, v := range viewers {
			streams[v.Staff] = dial(t, srv.URL, v, "")
			streams[v.Staff].mustReady(t)
		}
		customers := []string{"+15005550301", "+15005550302", "+15005550303"}
		jobs := []conversations.JobID{"job-a", "job-b", "job-c"}
		for _, j := range jobs {
			require.NoError(t, db.PutJob(ctx, conversations.JobContext{Tenant: w.tenant, ID: j}))
		}
		techs := []conversations.Viewer{w.tom, w.tara}
		threads := map[int]conversations.ThreadID{} // customer → thread, once it wrote

		seed := uint64(time.Now().UnixNano())
		r := rand.New(rand.NewPCG(seed, 41))
		t.Logf("seed %d", seed)
		var ops []string
		for range 80 {
			c := r.IntN(len(customers))
			switch op := r.IntN(10); {
			case op < 4:
				m := w.inbound(t, customers[c], fmt.Sprintf("message %d", len(ops)))
				if _, ok := threads[c]; !ok {
					threads[c] = m.Thread
					// Each customer's thread is about one job.
					require.NoError(t, w.svc.LinkJob(ctx, w.disp, m.Thread, jobs[c]))
				}
				ops = append(ops, "inbound "+customers[c])
			case op < 7:
				id, ok := threads[c]
				if !ok {
					continue
				}
				v := viewers[r.IntN(len(viewers))]
				if _, err := w.svc.MarkRead(ctx, v, id, 0); err != nil {
					require.True(t, errors.Is(err, conversations.ErrForbidden), "read: %v", err)
					continue
				}
				ops = append(ops, fmt.Sprintf("%s reads %d", v.Staff, c))
			case op < 9:
				tech := techs[r.IntN(len(techs))]
				require.NoError(t, w.svc.Assign(ctx, w.tenant, jobs[c], tech.Staff))
				ops = append(ops, fmt.Sprintf("assign %s to %d", tech.Staff, c))
			default:
				tech := techs[r.IntN(len(techs))]
				require.NoError(t, w.svc.Unassign(ctx, w.tenant, jobs[c], tech.Staff))
				ops = append(ops, fmt.Sprintf("unassign %s from %d", tech.Staff, c))
			}
		}

		for _, v := range viewers {
			latest, err := db.LatestNotificationID(ctx, w.tenant, v.Staff)
			require.NoError(t, err)
			want, err := w.svc.Badge(ctx, v)
			require.NoError(t, err)
			last, seen := lastBadge(t, streams[v.Staff], latest)
			if want > 0 || seen {
				assert.True(t, seen, "%s's stream carried no badge, the Service says %d (ops %v)", v.Staff, want, ops)
			}
			assert.Equal(t, want, last, "%s: the last streamed badge is Service.Badge (seed %d, ops %v)", v.Staff, seed, ops)
		}
	})
}

// lastBadge reads c up to the event with id latest (the newest logged for
// its viewer) and returns the badge of the last event that carried one.
func lastBadge(t *testing.T, c *sseClient, latest string) (int64, bool) {
	t.Helper()
	var (
		badge int64
		seen  bool
	)
	if strings.Trim(latest, "0") == "" {
		return 0, false // nothing was ever logged for the viewer
	}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ev, err := c.nextNote(ctx)
		cancel()
		require.NoError(t, err, "waiting for event %s", latest)
		badge, seen = ev.payload(t).Badge, true
		if ev.ID == latest {
			return badge, seen
		}
	}
}
