package inapp

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
)

// Events read for a recipient and still waiting in the ring for a slow
// connection when a revocation's badge event is read are checked again:
// those of the thread the recipient lost are then written as their ids
// alone, the others as they were. On both databases.
func TestWaitingLiveEventsObeyALaterRevocation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tenant := conversations.NewID[conversations.TenantID]()
		svc, err := conversations.NewService(conversations.Config{Store: db, Policy: policy.Default(), Jobs: db})
		require.NoError(t, err)
		tom := conversations.Staff{Tenant: tenant, ID: "tom", Name: "Tom", Role: conversations.RoleTechnician}
		disp := conversations.Staff{Tenant: tenant, ID: "dana", Name: "Dana", Role: conversations.RoleDispatcher}
		for _, st := range []conversations.Staff{tom, disp} {
			require.NoError(t, svc.PutStaff(ctx, st))
		}
		require.NoError(t, svc.ProvisionNumber(ctx, conversations.BusinessNumber{Tenant: tenant, Number: "+15007770001", Default: true}))
		thread := func(from, sid string) conversations.ThreadID {
			m, _, err := svc.Receive(ctx, conversations.InboundMessage{Tenant: tenant, Channel: conversations.ChannelSMS,
				BusinessNumber: "+15007770001", From: from, Body: "hi", ProviderID: sid})
			require.NoError(t, err)
			require.NoError(t, svc.AddParticipants(ctx, disp.Viewer(), m.Thread, tom.ID))
			return m.Thread
		}
		lost, kept := thread("+15005550101", "SM1"), thread("+15005550202", "SM2")

		access, err := conversations.NewThreadAccess(db, policy.Default())
		require.NoError(t, err)
		h, err := New(Config{Log: db, Visibility: access,
			Authenticate: func(*http.Request) (conversations.Viewer, error) { return conversations.Viewer{}, errors.New("unused") }})
		require.NoError(t, err)
		t.Cleanup(func() { _ = h.Close() })

		var ns []conversations.Notification
		for _, th := range []conversations.ThreadID{lost, kept, lost} {
			n, err := db.AppendNotification(ctx, conversations.Notification{Tenant: tenant, Recipient: tom.ID,
				Type: conversations.EventMessage, Thread: th, Message: &conversations.Message{Body: "x"}, At: time.Now()})
			require.NoError(t, err)
			ns = append(ns, n)
		}
		frames, err := h.frames(ctx, ns)
		require.NoError(t, err)
		for _, f := range frames {
			require.True(t, f.shown(), "read while Tom may see both threads")
		}
		// A connection that has taken none of them yet.
		g := &group{who: recipient{tenant, tom.ID}}
		h.mu.Lock()
		g.conns = []*conn{{wake: make(chan struct{}, 1), gone: make(chan struct{})}}
		h.appendLocked(g, frames)
		h.mu.Unlock()

		require.NoError(t, svc.RemoveParticipant(ctx, disp.Viewer(), lost, tom.ID))
		require.NoError(t, h.recheck(g))

		h.mu.Lock()
		taken, lagging, _ := h.takeLocked(g, g.conns[0])
		h.mu.Unlock()
		require.False(t, lagging)
		require.Len(t, taken, 3)
		assert.False(t, taken[0].shown(), "an event of the lost thread waiting in the ring is withheld")
		assert.True(t, taken[1].shown(), "the kept thread's event is written")
		assert.False(t, taken[2].shown(), "an event of the lost thread waiting in the ring is withheld")
	})
}
