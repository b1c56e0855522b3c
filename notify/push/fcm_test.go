package push_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/notify/notifytest"
	"github.com/fieldtalk/fieldtalk/notify/push"
	"github.com/fieldtalk/fieldtalk/notify/push/pushtest"
	"github.com/fieldtalk/fieldtalk/store"
)

// fastRetries keeps the retry tests quick.
var fastRetries = push.WithBackoff(time.Millisecond, 5*time.Millisecond)

type fcmEnv struct {
	fake *pushtest.FCM
	fcm  *push.FCM
	db   *store.DB
}

func newFCM(t *testing.T, opts ...push.Option) *fcmEnv {
	t.Helper()
	fake := pushtest.NewFCM(t)
	db := testdb.SQLite(t)
	fcm, err := push.NewFCM(push.FCMConfig{Credentials: fake.Credentials(), Devices: db, BaseURL: fake.URL()}, append([]push.Option{fastRetries}, opts...)...)
	require.NoError(t, err)
	return &fcmEnv{fake: fake, fcm: fcm, db: db}
}

// device registers a token for staff of tenant (creating the staff member).
func (e *fcmEnv) device(t *testing.T, tenant conversations.TenantID, staff conversations.StaffID, token string) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, e.db.PutStaff(ctx, conversations.Staff{Tenant: tenant, ID: staff, Role: conversations.RoleDispatcher}))
	require.NoError(t, e.db.RegisterDevice(ctx, store.Device{Tenant: tenant, Staff: staff, Token: token}))
}

func (e *fcmEnv) next(t *testing.T, token string) pushtest.Sent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := e.fake.Next(ctx, token)
	require.NoError(t, err, "waiting for a push to %s", token)
	return s
}

func inbound(badge int64) conversations.Notification {
	return conversations.Notification{
		ID: "0000000000000042", Tenant: "t1", Recipient: "dana", Type: conversations.EventMessage, Thread: "th1", Badge: badge,
		Message: &conversations.Message{
			ID: "m1", Tenant: "t1", Thread: "th1", Kind: conversations.KindCustomerSMS, Direction: conversations.DirectionInbound,
			Body: "Is the tech on the way?", From: "+15005550101", Status: conversations.StatusReceived,
		},
	}
}

type aps struct {
	Badge             int64  `json:"badge"`
	Sound             string `json:"sound"`
	ContentAvailable  int    `json:"content-available"`
	InterruptionLevel string `json:"interruption-level"`
}

func apsOf(t *testing.T, s pushtest.Sent) aps {
	t.Helper()
	var v struct {
		Payload struct {
			APS aps `json:"aps"`
		} `json:"payload"`
	}
	require.NoError(t, json.Unmarshal(s.APNS, &v))
	return v.Payload.APS
}

func TestFCMPushesToEveryDeviceWithTheBadge(t *testing.T) {
	e := newFCM(t)
	e.device(t, "t1", "dana", "phone-token-0001")
	e.device(t, "t1", "dana", "tablet-token-0002")
	e.device(t, "t1", "tom", "tom-token-0003")

	n := inbound(3)
	n.Urgent = true
	require.NoError(t, e.fcm.Notify(context.Background(), n))
	for _, tok := range []string{"phone-token-0001", "tablet-token-0002"} {
		s := e.next(t, tok)
		require.NotNil(t, s.Notification, "an inbound message is shown")
		assert.Equal(t, "Message from +15005550101", s.Notification.Title)
		assert.Equal(t, "Is the tech on the way?", s.Notification.Body)
		assert.Equal(t, map[string]string{"type": "message", "thread": "th1", "badge": "3", "message": "m1", "urgent": "1", "event_id": "0000000000000042", "collapse_key": "th1"}, s.Data)
		a := apsOf(t, s)
		assert.EqualValues(t, 3, a.Badge, "the iOS badge")
		assert.Equal(t, "default", a.Sound)
		assert.Equal(t, "time-sensitive", a.InterruptionLevel, "urgent")
		var android struct {
			Priority     string `json:"priority"`
			Notification struct {
				NotificationCount int64 `json:"notification_count"`
			} `json:"notification"`
		}
		require.NoError(t, json.Unmarshal(s.Android, &android))
		assert.Equal(t, "high", android.Priority)
		assert.EqualValues(t, 3, android.Notification.NotificationCount, "the Android badge")
	}
	assert.Len(t, e.fake.Sent(), 2, "nobody else's device")
}

func TestFCMBadgeOnlyUpdatesAreSilent(t *testing.T) {
	e := newFCM(t)
	e.device(t, "t1", "dana", "phone-token-0001")
	read := conversations.Notification{Tenant: "t1", Recipient: "dana", Type: conversations.EventRead, Thread: "th1", ReadSeq: 4, Badge: 0}
	require.NoError(t, e.fcm.Notify(context.Background(), read))
	s := e.next(t, "phone-token-0001")
	assert.Nil(t, s.Notification, "a read shows nothing")
	assert.Equal(t, "4", s.Data["read_seq"])
	assert.Equal(t, "0", s.Data["badge"])
	a := apsOf(t, s)
	assert.Equal(t, 1, a.ContentAvailable, "a background push, so the app can refresh")
	assert.EqualValues(t, 0, a.Badge, "the badge is cleared")

	delivered := conversations.Notification{Tenant: "t1", Recipient: "dana", Type: conversations.EventStatus, Thread: "th1",
		Message: &conversations.Message{ID: "m2", Status: conversations.StatusDelivered}}
	require.NoError(t, e.fcm.Notify(context.Background(), delivered))
	assert.Equal(t, 1, e.fake.SendRequests(), "a delivery report is not worth a push")
}

func TestFCMCachesTheAccessToken(t *testing.T) {
	var (
		mu  sync.Mutex
		now = time.Now()
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newFCM(t, push.WithClock(clock))
	e.fake.SetClock(clock)
	e.device(t, "t1", "dana", "phone-token-0001")
	ctx := context.Background()

	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, e.fcm.Notify(ctx, inbound(1)))
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, e.fake.TokenRequests(), "concurrent sends share one token fetch")

	mu.Lock()
	now = now.Add(50 * time.Minute)
	mu.Unlock()
	require.NoError(t, e.fcm.Notify(ctx, inbound(1)))
	assert.Equal(t, 1, e.fake.TokenRequests(), "a token is used until near its expiry")

	mu.Lock()
	now = now.Add(6 * time.Minute)
	mu.Unlock()
	require.NoError(t, e.fcm.Notify(ctx, inbound(1)))
	assert.Equal(t, 2, e.fake.TokenRequests(), "renewed a few minutes before it expires")

	e.fake.RevokeTokens()
	require.NoError(t, e.fcm.Notify(ctx, inbound(1)), "a revoked token is replaced and the send retried")
	assert.Equal(t, 3, e.fake.TokenRequests())
	assert.Len(t, e.fake.Sent(), 8)
}

func TestFCMForgetsDeadTokens(t *testing.T) {
	e := newFCM(t)
	ctx := context.Background()
	e.device(t, "t1", "dana", "uninstalled-0001")
	e.device(t, "t1", "dana", "garbled-token-0002")
	e.device(t, "t1", "dana", "good-token-0003")
	e.device(t, "t2", "dana", "uninstalled-0001") // the same phone, in another business
	e.fake.Unregister("uninstalled-0001")
	e.fake.Invalidate("garbled-token-0002")

	require.NoError(t, e.fcm.Notify(ctx, inbound(1)), "a dead token is not an error")
	e.next(t, "good-token-0003")
	tokens, err := e.db.DeviceTokens(ctx, "t1", "dana")
	require.NoError(t, err)
	assert.Equal(t, []string{"good-token-0003"}, tokens, "UNREGISTERED and an invalid token are removed")
	other, err := e.db.DeviceTokens(ctx, "t2", "dana")
	require.NoError(t, err)
	assert.Equal(t, []string{"uninstalled-0001"}, other, "only in the notification's business")

	e.fake.Fail(1, pushtest.BadMessage())
	err = e.fcm.Notify(ctx, inbound(1))
	require.Error(t, err, "a message FCM refuses is an error")
	var perr *conversations.ProviderError
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, conversations.Permanent, perr.Class)
	tokens, err = e.db.DeviceTokens(ctx, "t1", "dana")
	require.NoError(t, err)
	assert.Equal(t, []string{"good-token-0003"}, tokens, "and not the token's fault: it stays")
}

func TestFCMRetries(t *testing.T) {
	ctx := context.Background()
	t.Run("5xx then success", func(t *testing.T) {
		e := newFCM(t)
		e.device(t, "t1", "dana", "phone-token-0001")
		e.fake.Fail(1, pushtest.Unavailable(0))
		e.fake.Fail(1, pushtest.Internal())
		require.NoError(t, e.fcm.Notify(ctx, inbound(1)))
		assert.Equal(t, 3, e.fake.SendRequests())
		e.next(t, "phone-token-0001")
	})
	t.Run("Retry-After is honoured", func(t *testing.T) {
		var waits []time.Duration
		e := newFCM(t, push.WithSleep(func(_ context.Context, d time.Duration) error {
			waits = append(waits, d)
			return nil
		}))
		e.device(t, "t1", "dana", "phone-token-0001")
		e.fake.Fail(1, pushtest.RateLimit(3*time.Second))
		require.NoError(t, e.fcm.Notify(ctx, inbound(1)))
		assert.Equal(t, []time.Duration{3 * time.Second}, waits, "waited as long as FCM asked, once")
		assert.Equal(t, 2, e.fake.SendRequests())
	})
	t.Run("bounded", func(t *testing.T) {
		e := newFCM(t, push.WithRetries(2))
		e.device(t, "t1", "dana", "phone-token-0001")
		down := pushtest.Unavailable(0)
		e.fake.FailAll(&down)
		err := e.fcm.Notify(ctx, inbound(1))
		require.Error(t, err)
		assert.ErrorIs(t, err, conversations.ErrUnavailable, "a retry later may help")
		assert.Equal(t, 3, e.fake.SendRequests(), "the first try and two retries")
	})
	t.Run("a Retry-After too long is not waited out", func(t *testing.T) {
		var waits []time.Duration
		e := newFCM(t, push.WithMaxRetryAfter(time.Second), push.WithSleep(func(_ context.Context, d time.Duration) error {
			waits = append(waits, d)
			return nil
		}))
		e.device(t, "t1", "dana", "phone-token-0001")
		e.fake.Fail(1, pushtest.RateLimit(time.Minute))
		err := e.fcm.Notify(ctx, inbound(1))
		var perr *conversations.ProviderError
		require.ErrorAs(t, err, &perr)
		assert.Equal(t, time.Minute, perr.RetryAfter, "the hint is passed on")
		assert.Empty(t, waits, "nothing was waited out")
		assert.Equal(t, 1, e.fake.SendRequests(), "and not retried")
	})
}

func TestFCMConfig(t *testing.T) {
	fake := pushtest.NewFCM(t)
	db := testdb.SQLite(t)
	for name, cfg := range map[string]push.FCMConfig{
		"no devices":      {Credentials: fake.Credentials()},
		"not JSON":        {Credentials: []byte("nope"), Devices: db},
		"not a key file":  {Credentials: []byte(`{"type":"authorized_user"}`), Devices: db},
		"a bad base URL":  {Credentials: fake.Credentials(), Devices: db, BaseURL: "ftp://x"},
		"a bad token URL": {Credentials: fake.Credentials(), Devices: db, TokenURL: "/token"},
	} {
		_, err := push.NewFCM(cfg)
		assert.ErrorIs(t, err, conversations.ErrInvalid, name)
	}

	// A key the project does not know: the token endpoint refuses it.
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	creds, err := pushtest.ServiceAccount(other, fake.TokenURL())
	require.NoError(t, err)
	fcm, err := push.NewFCM(push.FCMConfig{Credentials: creds, Devices: db, BaseURL: fake.URL()}, fastRetries)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, db.PutStaff(ctx, conversations.Staff{Tenant: "t1", ID: "dana", Role: conversations.RoleDispatcher}))
	require.NoError(t, db.RegisterDevice(ctx, store.Device{Tenant: "t1", Staff: "dana", Token: "phone-token-0001"}))
	err = fcm.Notify(ctx, inbound(1))
	var perr *conversations.ProviderError
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, conversations.Permanent, perr.Class, "a refused key is not retried")
	assert.Equal(t, "invalid_grant", perr.Code)
	assert.Zero(t, fake.SendRequests())
}

// fcmWatcher reads what the fake accepted for one device.
type fcmWatcher struct {
	fake  *pushtest.FCM
	token string
}

func (w fcmWatcher) Next(ctx context.Context) (notifytest.Delivery, error) {
	s, err := w.fake.Next(ctx, w.token)
	if err != nil {
		return notifytest.Delivery{}, err
	}
	badge, err := strconv.ParseInt(s.Data["badge"], 10, 64)
	if err != nil {
		return notifytest.Delivery{}, errors.New("push_test: no badge in the data")
	}
	d := notifytest.Delivery{Type: conversations.EventType(s.Data["type"]), Thread: conversations.ThreadID(s.Data["thread"]), Badge: badge}
	if s.Notification != nil {
		d.Shown, d.Alert = true, s.Notification.Title+"\n"+s.Notification.Body
	}
	return d, nil
}

func TestFCMConformance(t *testing.T) {
	notifytest.Run(t, notifytest.Harness{New: func(t *testing.T) *notifytest.Backend {
		e := newFCM(t, push.WithRetries(1))
		return &notifytest.Backend{
			Notifier: e.fcm,
			Watch: func(t *testing.T, tenant conversations.TenantID, staff conversations.StaffID) notifytest.Watcher {
				token := "token-" + string(tenant) + "-" + string(staff)
				e.device(t, tenant, staff, token)
				return fcmWatcher{fake: e.fake, token: token}
			},
			Break: func() { down := pushtest.Unavailable(0); e.fake.FailAll(&down) },
			Stall: func() { hang := pushtest.Hang(); e.fake.FailAll(&hang) },
		}
	}, Shows: true})
}

// The store is what hosts give FCM.
var _ push.Devices = (*store.DB)(nil)

func TestFCMHonoursPreferences(t *testing.T) {
	e := newFCM(t)
	e.device(t, "t1", "dana", "phone-token-0001")

	type apns struct {
		Headers map[string]string `json:"headers"`
	}
	type android struct {
		Notification struct {
			Tag string `json:"tag"`
		} `json:"notification"`
	}
	// Shown: one notification per thread on the phone.
	require.NoError(t, e.fcm.Notify(context.Background(), inbound(2)))
	s := e.next(t, "phone-token-0001")
	require.NotNil(t, s.Notification)
	var ah apns
	require.NoError(t, json.Unmarshal(s.APNS, &ah))
	assert.Equal(t, "th1", ah.Headers["apns-collapse-id"], "iOS collapses by thread")
	var an android
	require.NoError(t, json.Unmarshal(s.Android, &an))
	assert.Equal(t, "th1", an.Notification.Tag, "Android replaces by thread")

	// A hidden preview shows "New message" and nothing of the text or sender.
	hidden := inbound(3)
	hidden.Preview = conversations.PreviewHidden
	require.NoError(t, e.fcm.Notify(context.Background(), hidden))
	s = e.next(t, "phone-token-0001")
	require.NotNil(t, s.Notification)
	assert.Equal(t, push.HiddenTitle, s.Notification.Title)
	assert.Empty(t, s.Notification.Body)
	assert.EqualValues(t, 3, apsOf(t, s).Badge)

	// Silent (muted, quiet hours, push mode): the badge only, no sound.
	silent := inbound(4)
	silent.Silent = true
	require.NoError(t, e.fcm.Notify(context.Background(), silent))
	s = e.next(t, "phone-token-0001")
	assert.Nil(t, s.Notification, "a silent notification shows nothing")
	a := apsOf(t, s)
	assert.Empty(t, a.Sound, "and makes no sound")
	assert.EqualValues(t, 4, a.Badge, "but the badge follows")
}

func TestCollapseKey(t *testing.T) {
	assert.Equal(t, "0194a3b2-7c1d-7000-8000-000000000001", push.CollapseKey("0194a3b2-7c1d-7000-8000-000000000001"))
	long := push.CollapseKey(conversations.ThreadID(strings.Repeat("x", 65)))
	assert.LessOrEqual(t, len(long), 64, "an APNs collapse id is at most 64 bytes")
	assert.NotEqual(t, long, push.CollapseKey(conversations.ThreadID(strings.Repeat("x", 66))), "distinct threads, distinct keys")
	odd := push.CollapseKey("thread/with spaces")
	assert.Regexp(t, `^[A-Za-z0-9_.:-]+$`, odd)
}
