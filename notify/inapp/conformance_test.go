package inapp_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/notify/inapp"
	"github.com/fieldtalk/fieldtalk/notify/notifytest"
	"github.com/fieldtalk/fieldtalk/store"
)

// sseWatcher adapts a stream to the suite's Watcher.
type sseWatcher struct{ c *sseClient }

func (w sseWatcher) Next(ctx context.Context) (notifytest.Delivery, error) {
	ev, err := w.c.nextNote(ctx)
	if err != nil {
		return notifytest.Delivery{}, err
	}
	var p = struct {
		Type   string `json:"type"`
		Thread string `json:"thread"`
		Badge  int64  `json:"badge"`
	}{}
	if err := json.Unmarshal([]byte(ev.Data), &p); err != nil {
		return notifytest.Delivery{}, err
	}
	return notifytest.Delivery{Type: conversations.EventType(p.Type), Thread: conversations.ThreadID(p.Thread), Badge: p.Badge}, nil
}

// hubHarness is the suite's harness for a Hub on a fresh database.
func hubHarness(open func(testing.TB) *store.DB) notifytest.Harness {
	return notifytest.Harness{New: func(t *testing.T) *notifytest.Backend {
		log := &faultLog{Log: open(t)}
		hub, err := inapp.New(inapp.Config{Log: log, Authenticate: authenticate})
		require.NoError(t, err)
		srv := newServer(t, hub)
		return &notifytest.Backend{
			Notifier: hub,
			Watch: func(t *testing.T, tenant conversations.TenantID, staff conversations.StaffID) notifytest.Watcher {
				c := dial(t, srv.URL, conversations.Viewer{Tenant: tenant, Staff: staff, Role: conversations.RoleDispatcher}, "")
				c.mustReady(t)
				return sseWatcher{c}
			},
			Break: func() { log.broken.Store(true) },
			Stall: func() { log.stalled.Store(true) },
		}
	}}
}

func TestConformance(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { notifytest.Run(t, hubHarness(testdb.SQLite)) })
	t.Run("postgres", func(t *testing.T) { notifytest.Run(t, hubHarness(testdb.Postgres)) })
}

// The store is what hosts give the Hub.
var (
	_ inapp.Log    = (*store.DB)(nil)
	_ inapp.Pruner = (*store.DB)(nil)
)
