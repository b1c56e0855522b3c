package inapp_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/notify/inapp"
	"github.com/fieldtalk/fieldtalk/notify/inapp/pgbus"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
)

// instance is one server process: its own store connections, Service, Hub,
// bus listener and HTTP server, on a database shared with the others.
type instance struct {
	db  *store.DB
	svc *conversations.Service
	hub *inapp.Hub
	srv *httptest.Server
}

func startInstance(t testing.TB, dsn, channel string, opts ...inapp.Option) *instance {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Migrate(ctx))
	bus, err := pgbus.New(db.ConnConfig(), db.SQL(), pgbus.WithChannel(channel))
	require.NoError(t, err)
	t.Cleanup(func() { _ = bus.Close() })
	hub, err := inapp.New(inapp.Config{Log: db, Authenticate: authenticate, Bus: bus}, opts...)
	require.NoError(t, err)
	svc, err := conversations.NewService(conversations.Config{Store: db, Policy: policy.Default(), Notifier: hub, Jobs: db})
	require.NoError(t, err)
	return &instance{db: db, svc: svc, hub: hub, srv: newServer(t, hub)}
}

func uniqueChannel() string {
	return "ft_test_" + strings.ReplaceAll(conversations.NewID[string](), "-", "")
}

// Two server instances on one PostgreSQL database: a message received by
// one reaches a device streaming from the other, a read on one reaches the
// other's devices, and a device that moves between instances resumes
// where it left off.
func TestTwoInstances(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	ch := uniqueChannel()
	one, two := startInstance(t, dsn, ch), startInstance(t, dsn, ch)
	w := populate(t, one.svc, conversations.NewID[conversations.TenantID](), "+15006660001")
	w2 := *w
	w2.svc = two.svc

	phone := dial(t, two.srv.URL, w.disp, "")
	tablet := dial(t, one.srv.URL, w.disp, "")
	phone.mustReady(t)
	tablet.mustReady(t)

	m := w.inbound(t, "+15005550101", "Received by instance one")
	ev := w.expect(t, phone, w.disp, conversations.EventMessage, m.Thread, 1, "instance two's device, message received on instance one")
	assert.Equal(t, "Received by instance one", ev.payload(t).Message.Body)
	w.expect(t, tablet, w.disp, conversations.EventMessage, m.Thread, 1, "instance one's device")

	_, err := w2.svc.MarkRead(context.Background(), w.disp, m.Thread, 0)
	require.NoError(t, err)
	w.expect(t, tablet, w.disp, conversations.EventRead, m.Thread, 0, "a read on instance two reaches instance one")
	w.expect(t, phone, w.disp, conversations.EventRead, m.Thread, 0, "and its own devices")

	// The phone loses its signal; it reconnects to the other instance.
	last := phone.LastEventID()
	phone.Close()
	m2 := w2.inbound(t, "+15005550101", "While the phone was away")
	w.expect(t, tablet, w.disp, conversations.EventMessage, m2.Thread, 1, "the tablet stays live")
	back := dial(t, one.srv.URL, w.disp, last)
	got := back.mustNext(t)
	assert.Equal(t, "While the phone was away", got.payload(t).Message.Body, "the phone gets what it missed from the other instance")
	assert.Equal(t, inapp.EventReady, back.mustNext(t).Event)
	back.quiet(t, 200*time.Millisecond, "and nothing else")
}
