package pgbus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/notify/inapp"
	"github.com/fieldtalk/fieldtalk/notify/inapp/pgbus"
	"github.com/fieldtalk/fieldtalk/store"
)

func channel() string {
	return "ft_test_" + strings.ReplaceAll(conversations.NewID[string](), "-", "")
}

func newBus(t *testing.T, db *store.DB, ch string) (*pgbus.Bus, chan inapp.Signal) {
	t.Helper()
	bus, err := pgbus.New(db.ConnConfig(), db.SQL(), pgbus.WithChannel(ch), pgbus.WithBackoff(10*time.Millisecond, 100*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(func() { _ = bus.Close() })
	got := make(chan inapp.Signal, 100)
	unsub := bus.Subscribe(func(s inapp.Signal) { got <- s })
	t.Cleanup(unsub)
	return bus, got
}

// onPostgres runs fn on a plain PostgreSQL schema and on a Citus one: the
// bus runs on the coordinator, which every instance connects to.
func onPostgres(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Run("postgres", func(t *testing.T) { fn(t, testdb.Postgres(t)) })
	t.Run("citus", func(t *testing.T) { fn(t, testdb.Citus(t)) })
}

func recv(t *testing.T, ch chan inapp.Signal, what string) inapp.Signal {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		return inapp.Signal{}
	}
}

func TestSignalsReachEveryBus(t *testing.T) {
	onPostgres(t, func(t *testing.T, db *store.DB) {
		ch := channel()
		a, gotA := newBus(t, db, ch)
		_, gotB := newBus(t, db, ch)
		assert.True(t, recv(t, gotA, "the first listen").Lost, "listening begins with a Lost signal: catch up")
		assert.True(t, recv(t, gotB, "the first listen").Lost)

		sig := inapp.Signal{Tenant: "t1", Staff: "dana", ID: "0000000000000007"}
		require.NoError(t, a.Publish(context.Background(), sig))
		assert.Equal(t, sig, recv(t, gotB, "the signal on the other bus"))
		assert.Equal(t, sig, recv(t, gotA, "the signal on the publishing bus"))

		_, gotOther := newBus(t, db, channel())
		recv(t, gotOther, "the first listen")
		require.NoError(t, a.Publish(context.Background(), sig))
		recv(t, gotB, "the second signal")
		select {
		case s := <-gotOther:
			t.Errorf("a bus on another channel got %+v", s)
		case <-time.After(200 * time.Millisecond):
		}
	})
}

// The listener comes back after its connection is killed, and says that
// signals may have been lost meanwhile.
func TestListenerReconnects(t *testing.T) {
	onPostgres(t, func(t *testing.T, db *store.DB) {
		ch := channel()
		bus, got := newBus(t, db, ch)
		recv(t, got, "the first listen")

		ctx := context.Background()
		var killed int
		require.Eventually(t, func() bool {
			err := db.SQL().QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	WHERE query = $1`, `LISTEN "`+ch+`"`).Scan(&killed)
			return err == nil && killed == 1
		}, 10*time.Second, 20*time.Millisecond, "the listener's backend is found and terminated")

		assert.True(t, recv(t, got, "the reconnection").Lost, "a reconnection raises Lost")
		sig := inapp.Signal{Tenant: "t1", Staff: "dana", ID: "0000000000000001"}
		require.NoError(t, bus.Publish(ctx, sig))
		assert.Equal(t, sig, recv(t, got, "a signal after the reconnection"))
	})
}

// A quiet listener pings its connection and stays up.
func TestQuietListenerStaysUp(t *testing.T) {
	onPostgres(t, func(t *testing.T, db *store.DB) {
		ch := channel()
		bus, err := pgbus.New(db.ConnConfig(), db.SQL(), pgbus.WithChannel(ch), pgbus.WithPingInterval(20*time.Millisecond))
		require.NoError(t, err)
		defer bus.Close()
		got := make(chan inapp.Signal, 10)
		defer bus.Subscribe(func(s inapp.Signal) { got <- s })()
		recv(t, got, "the first listen")
		time.Sleep(150 * time.Millisecond) // several ping intervals
		sig := inapp.Signal{Tenant: "t1", Staff: "dana", ID: "0000000000000001"}
		require.NoError(t, bus.Publish(context.Background(), sig))
		assert.Equal(t, sig, recv(t, got, "a signal after a quiet spell"), "no reconnection (Lost) in between")
	})
}

func TestPublishRefusals(t *testing.T) {
	db := testdb.Postgres(t)
	bus, _ := newBus(t, db, channel())
	ctx := context.Background()
	err := bus.Publish(ctx, inapp.Signal{Tenant: "t1", Staff: conversations.StaffID(strings.Repeat("x", 8000)), ID: "1"})
	assert.ErrorIs(t, err, conversations.ErrInvalid, "a payload over NOTIFY's limit")
	assert.ErrorIs(t, bus.Publish(ctx, inapp.Signal{Lost: true}), conversations.ErrInvalid, "Lost is not published")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, bus.Publish(cancelled, inapp.Signal{Tenant: "t1", Staff: "dana", ID: "1"}), context.Canceled)

	_, err = pgbus.New(nil, db.SQL())
	assert.ErrorIs(t, err, conversations.ErrInvalid, "no connection settings (SQLite)")
	_, err = pgbus.New(db.ConnConfig(), nil)
	assert.ErrorIs(t, err, conversations.ErrInvalid, "no publisher")
}
