package push_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/notify/notifytest"
	"github.com/fieldtalk/fieldtalk/notify/push"
	"github.com/fieldtalk/fieldtalk/notify/push/pushtest"
)

var secret = []byte("a-shared-secret-of-32-bytes-long")

func newWebhook(t *testing.T, opts ...push.Option) (*pushtest.Gateway, *push.Webhook) {
	t.Helper()
	gw := pushtest.NewGateway(t, secret)
	wh, err := push.NewWebhook(push.WebhookConfig{URL: gw.URL(), Secret: secret}, append([]push.Option{fastRetries}, opts...)...)
	require.NoError(t, err)
	return gw, wh
}

func nextPush(t *testing.T, gw *pushtest.Gateway, tenant, staff string) pushtest.Received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := gw.Next(ctx, tenant, staff)
	require.NoError(t, err)
	return r
}

func TestWebhookPostsSignedNotifications(t *testing.T) {
	gw, wh := newWebhook(t)
	ctx := context.Background()
	require.NoError(t, wh.Notify(ctx, inbound(3)))
	r := nextPush(t, gw, "t1", "dana")
	assert.Equal(t, "message", r.Body.Type)
	assert.Equal(t, "th1", r.Body.Thread)
	assert.EqualValues(t, 3, r.Body.Badge)
	require.NotNil(t, r.Body.Message)
	assert.Equal(t, "Is the tech on the way?", r.Body.Message.Body)
	require.NotNil(t, r.Body.Alert)
	assert.Equal(t, push.Push{Title: "Message from +15005550101", Body: "Is the tech on the way?"}, *r.Body.Alert)
	assert.NotEmpty(t, r.Delivery)

	read := conversations.Notification{Tenant: "t1", Recipient: "dana", Type: conversations.EventRead, Thread: "th1", ReadSeq: 2}
	require.NoError(t, wh.Notify(ctx, read))
	r = nextPush(t, gw, "t1", "dana")
	assert.Nil(t, r.Body.Alert, "a badge update has nothing to show")
	assert.EqualValues(t, 2, r.Body.ReadSeq)
	assert.Zero(t, gw.Rejected())
}

func TestWebhookRetriesOneDelivery(t *testing.T) {
	gw, wh := newWebhook(t)
	gw.Fail(1, pushtest.Internal())
	gw.Fail(1, pushtest.RateLimit(0))
	require.NoError(t, wh.Notify(context.Background(), inbound(1)))
	assert.Equal(t, 3, gw.Requests())
	assert.Len(t, gw.Received(), 1)

	gw.Fail(1, pushtest.BadMessage())
	err := wh.Notify(context.Background(), inbound(1))
	var perr *conversations.ProviderError
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, conversations.Permanent, perr.Class, "a 4xx is not retried")
	assert.Equal(t, 4, gw.Requests())
}

func TestWebhookWrongSecretIsRefused(t *testing.T) {
	gw := pushtest.NewGateway(t, secret)
	wh, err := push.NewWebhook(push.WebhookConfig{URL: gw.URL(), Secret: []byte("another-secret-entirely-32-bytes")})
	require.NoError(t, err)
	require.Error(t, wh.Notify(context.Background(), inbound(1)))
	assert.Equal(t, 1, gw.Rejected())

	for name, cfg := range map[string]push.WebhookConfig{
		"no URL":       {Secret: secret},
		"a bad URL":    {URL: "mailto:x@example.com", Secret: secret},
		"short secret": {URL: gw.URL(), Secret: []byte("short")},
	} {
		_, err := push.NewWebhook(cfg)
		assert.ErrorIs(t, err, conversations.ErrInvalid, name)
	}
}

func TestVerifyWebhook(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	// Sign through a real Webhook: what it sends is what a gateway checks.
	var (
		h    http.Header
		good []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h = r.Header.Clone()
		good, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	wh, err := push.NewWebhook(push.WebhookConfig{URL: srv.URL, Secret: secret}, push.WithClock(func() time.Time { return now }))
	require.NoError(t, err)
	require.NoError(t, wh.Notify(context.Background(), conversations.Notification{Tenant: "t1", Recipient: "dana", Type: "message"}))

	require.NoError(t, push.VerifyWebhook(secret, h, good, now.Add(time.Minute), 0), "a request as sent")
	for name, tc := range map[string]struct {
		key  []byte
		h    http.Header
		body []byte
		now  time.Time
	}{
		"tampered body":    {secret, h, bytes.Replace(good, []byte("dana"), []byte("tom!"), 1), now},
		"wrong secret":     {[]byte("another-secret-entirely-32-bytes"), h, good, now},
		"replayed later":   {secret, h, good, now.Add(time.Hour)},
		"from the future":  {secret, h, good, now.Add(-time.Hour)},
		"no headers":       {secret, http.Header{}, good, now},
		"forged timestamp": {secret, withHeader(h, push.HeaderTimestamp, strconv.FormatInt(now.Add(time.Second).Unix(), 10)), good, now},
	} {
		assert.ErrorIs(t, push.VerifyWebhook(tc.key, tc.h, tc.body, tc.now, 0), conversations.ErrForbidden, name)
	}
}

func withHeader(h http.Header, k, v string) http.Header {
	c := h.Clone()
	c.Set(k, v)
	return c
}

type gatewayWatcher struct {
	gw            *pushtest.Gateway
	tenant, staff string
}

func (w gatewayWatcher) Next(ctx context.Context) (notifytest.Delivery, error) {
	r, err := w.gw.Next(ctx, w.tenant, w.staff)
	if err != nil {
		return notifytest.Delivery{}, err
	}
	d := notifytest.Delivery{Type: conversations.EventType(r.Body.Type), Thread: conversations.ThreadID(r.Body.Thread), Badge: r.Body.Badge}
	if a := r.Body.Alert; a != nil {
		d.Shown, d.Alert = true, a.Title+"\n"+a.Body
	}
	return d, nil
}

func TestWebhookConformance(t *testing.T) {
	notifytest.Run(t, notifytest.Harness{New: func(t *testing.T) *notifytest.Backend {
		gw, wh := newWebhook(t, push.WithRetries(1))
		return &notifytest.Backend{
			Notifier: wh,
			Watch: func(t *testing.T, tenant conversations.TenantID, staff conversations.StaffID) notifytest.Watcher {
				return gatewayWatcher{gw: gw, tenant: string(tenant), staff: string(staff)}
			},
			Break: func() { down := pushtest.Internal(); gw.FailAll(&down) },
			Stall: func() { hang := pushtest.Hang(); gw.FailAll(&hang) },
		}
	}, Shows: true})
}

func TestWebhookHonoursPreferences(t *testing.T) {
	gw, wh := newWebhook(t)
	ctx := context.Background()
	require.NoError(t, wh.Notify(ctx, inbound(1)))
	r := nextPush(t, gw, "t1", "dana")
	require.NotNil(t, r.Body.Alert)
	assert.Equal(t, "th1", r.Body.CollapseKey, "one notification per thread on the phone")

	hidden := inbound(2)
	hidden.Preview = conversations.PreviewHidden
	require.NoError(t, wh.Notify(ctx, hidden))
	r = nextPush(t, gw, "t1", "dana")
	require.NotNil(t, r.Body.Alert)
	assert.Equal(t, push.Push{Title: push.HiddenTitle}, *r.Body.Alert, "a hidden preview shows no text and no sender")
	require.NotNil(t, r.Body.Message)
	assert.Empty(t, r.Body.Message.Body, "and the gateway is not given the text either")
	assert.EqualValues(t, 2, r.Body.Badge)

	silent := inbound(3)
	silent.Silent = true
	require.NoError(t, wh.Notify(ctx, silent))
	r = nextPush(t, gw, "t1", "dana")
	assert.Nil(t, r.Body.Alert, "a silent notification shows nothing")
	assert.Empty(t, r.Body.CollapseKey)
	assert.EqualValues(t, 3, r.Body.Badge, "but keeps the badge in step")
}
