package notify_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/notify"
	"github.com/fieldtalk/fieldtalk/notify/notifytest"
	"github.com/fieldtalk/fieldtalk/notify/push"
	"github.com/fieldtalk/fieldtalk/notify/push/pushtest"
	"github.com/fieldtalk/fieldtalk/store"
)

type notifierFunc func(context.Context, conversations.Notification) error

func (f notifierFunc) Notify(ctx context.Context, n conversations.Notification) error {
	return f(ctx, n)
}

func TestFanOutRunsNotifiersConcurrently(t *testing.T) {
	// Each notifier waits for the other to have started: only concurrent
	// calls can both finish.
	var started sync.WaitGroup
	started.Add(2)
	both := make(chan struct{})
	go func() { started.Wait(); close(both) }()
	waitForOther := notifierFunc(func(ctx context.Context, _ conversations.Notification) error {
		started.Done()
		select {
		case <-both:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	fan, err := notify.New(waitForOther, waitForOther)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	assert.NoError(t, fan.Notify(ctx, conversations.Notification{Tenant: "t1", Recipient: "dana"}))
}

type ctxKey struct{}

func TestFanOutJoinsErrorsAndDeliversTheRest(t *testing.T) {
	var got []conversations.StaffID
	var mu sync.Mutex
	ok := notifierFunc(func(ctx context.Context, n conversations.Notification) error {
		if ctx.Value(ctxKey{}) != "caller" {
			return errors.New("not the caller's context")
		}
		mu.Lock()
		defer mu.Unlock()
		got = append(got, n.Recipient)
		return nil
	})
	down := notifierFunc(func(context.Context, conversations.Notification) error {
		return fmt.Errorf("backend: %w", conversations.ErrUnavailable)
	})
	bad := notifierFunc(func(context.Context, conversations.Notification) error {
		return conversations.Invalid("recipient", "unknown")
	})
	panics := notifierFunc(func(context.Context, conversations.Notification) error { panic("boom") })
	fan, err := notify.New(down, ok, bad, panics)
	require.NoError(t, err)

	ctx := context.WithValue(context.Background(), ctxKey{}, "caller")
	err = fan.Notify(ctx, conversations.Notification{Tenant: "t1", Recipient: "dana"})
	require.Error(t, err)
	assert.ErrorIs(t, err, conversations.ErrUnavailable, "every failure is in the joined error")
	assert.ErrorIs(t, err, conversations.ErrInvalid)
	assert.Equal(t, []conversations.StaffID{"dana"}, got, "one failing notifier keeps no other from delivering, and each gets the caller's context")

	_, err = notify.New(ok, nil)
	assert.ErrorIs(t, err, conversations.ErrInvalid, "a nil notifier")
}

// both is a Watcher that expects every delivery on both of the fan-out's
// notifiers; concurrent notifications may reach the two in different orders.
type both struct {
	a, b       notifytest.Watcher
	extraFromB []notifytest.Delivery
}

func (w *both) Next(ctx context.Context) (notifytest.Delivery, error) {
	d, err := w.a.Next(ctx)
	if err != nil {
		return d, err
	}
	for i, x := range w.extraFromB {
		if x == d {
			w.extraFromB = append(w.extraFromB[:i], w.extraFromB[i+1:]...)
			return d, nil
		}
	}
	for {
		x, err := w.b.Next(ctx)
		if err != nil {
			return d, fmt.Errorf("notify_test: %+v reached one notifier only: %w", d, err)
		}
		if x == d {
			return d, nil
		}
		w.extraFromB = append(w.extraFromB, x)
	}
}

type gatewayWatcher struct {
	gw            *pushtest.Gateway
	tenant, staff string
}

func (w gatewayWatcher) Next(ctx context.Context) (notifytest.Delivery, error) {
	r, err := w.gw.Next(ctx, w.tenant, w.staff)
	return notifytest.Delivery{Type: conversations.EventType(r.Body.Type), Thread: conversations.ThreadID(r.Body.Thread), Badge: r.Body.Badge}, err
}

type fcmWatcher struct {
	fake  *pushtest.FCM
	token string
}

func (w fcmWatcher) Next(ctx context.Context) (notifytest.Delivery, error) {
	s, err := w.fake.Next(ctx, w.token)
	if err != nil {
		return notifytest.Delivery{}, err
	}
	var badge int64
	_, err = fmt.Sscan(s.Data["badge"], &badge)
	return notifytest.Delivery{Type: conversations.EventType(s.Data["type"]), Thread: conversations.ThreadID(s.Data["thread"]), Badge: badge}, err
}

// The fan-out of FCM and a web hook passes the suite: both deliver every
// notification, and either failing or stalling is the fan-out's error.
func TestFanOutConformance(t *testing.T) {
	secret := []byte("a-shared-secret-of-32-bytes-long")
	notifytest.Run(t, notifytest.Harness{New: func(t *testing.T) *notifytest.Backend {
		fast := []push.Option{push.WithRetries(1), push.WithBackoff(time.Millisecond, 2*time.Millisecond)}
		gw := pushtest.NewGateway(t, secret)
		wh, err := push.NewWebhook(push.WebhookConfig{URL: gw.URL(), Secret: secret}, fast...)
		require.NoError(t, err)
		fake := pushtest.NewFCM(t)
		db := testdb.SQLite(t)
		fcm, err := push.NewFCM(push.FCMConfig{Credentials: fake.Credentials(), Devices: db, BaseURL: fake.URL()}, fast...)
		require.NoError(t, err)
		fan, err := notify.New(wh, fcm)
		require.NoError(t, err)
		return &notifytest.Backend{
			Notifier: fan,
			Watch: func(t *testing.T, tenant conversations.TenantID, staff conversations.StaffID) notifytest.Watcher {
				ctx := context.Background()
				require.NoError(t, db.PutStaff(ctx, conversations.Staff{Tenant: tenant, ID: staff, Role: conversations.RoleAdmin}))
				token := "token-" + string(tenant) + "-" + string(staff)
				require.NoError(t, db.RegisterDevice(ctx, store.Device{Tenant: tenant, Staff: staff, Token: token}))
				return &both{a: gatewayWatcher{gw, string(tenant), string(staff)}, b: fcmWatcher{fake, token}}
			},
			Break: func() { down := pushtest.Internal(); gw.FailAll(&down) },
			Stall: func() { hang := pushtest.Hang(); fake.FailAll(&hang) },
		}
	}})
}
