package sendgrid_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/channel/sendgrid"
	"github.com/fieldtalk/fieldtalk/channel/sendgrid/sendgridtest"
	"github.com/fieldtalk/fieldtalk/conversations"
)

// hooks is the app side of the webhook: the handler behind a loopback
// server, and the signer SendGrid would use.
type hooks struct {
	rec    *receiver
	signer *sendgridtest.Signer
	srv    *httptest.Server
}

func newHooks(t *testing.T, opts ...sendgrid.Option) *hooks {
	t.Helper()
	signer := newSigner(t)
	rec := &receiver{}
	wh, err := sendgrid.NewWebhook(sendgrid.WebhookConfig{PublicKey: signer.PublicKey()}, rec,
		append([]sendgrid.Option{sendgrid.WithClock(clock)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/sendgrid/events", wh)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &hooks{rec: rec, signer: signer, srv: srv}
}

// post delivers body as SendGrid would, signed at fixedNow.
func (h *hooks) post(t *testing.T, body []byte) int {
	t.Helper()
	resp, err := h.signer.Post(context.Background(), nil, h.srv.URL+"/sendgrid/events", body, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// raw posts body with exactly the headers given.
func (h *hooks) raw(t *testing.T, body []byte, header http.Header) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/sendgrid/events", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

const (
	msgDelivered = "01959595-8a40-7c3e-9b1a-2f6d4e8c0a11"
	msgBounced   = "01959596-0b1c-7a2d-8e3f-4a5b6c7d8e9f"
	msgDropped   = "01959597-6e7f-7b8c-9d0e-1f2a3b4c5d6e"
)

func TestEventBatch(t *testing.T) {
	h := newHooks(t)
	if status := h.post(t, readFile(t, "events.json")); status != http.StatusOK {
		t.Fatalf("status %d, want 200", status)
	}
	unix := func(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
	want := []conversations.StatusUpdate{
		{Message: msgDelivered, ProviderID: "W86EgYT6SQKk0lRflfLRsA", Status: conversations.StatusSending, At: unix(1741966805)},
		// deferred: no update
		{Message: msgDelivered, ProviderID: "W86EgYT6SQKk0lRflfLRsA", Status: conversations.StatusDelivered, At: unix(1741967102)},
		{Message: msgDelivered, ProviderID: "W86EgYT6SQKk0lRflfLRsA", Status: conversations.StatusDelivered, At: unix(1741967590)}, // open
		{Message: msgBounced, ProviderID: "Qm0xTuVbS8yJr3WkZpXc2g", Status: conversations.StatusSending, At: unix(1741966806)},
		{Message: msgBounced, ProviderID: "Qm0xTuVbS8yJr3WkZpXc2g", Status: conversations.StatusUndelivered, At: unix(1741966809), ErrorCode: "5.1.1"},
		{Message: msgDropped, ProviderID: "a9Jk2LmNoPqRsTuVwXyZ0b", Status: conversations.StatusFailed, At: unix(1741966807), ErrorCode: "5.0.0"},
		// the campaign's delivered event is not ours: no update
	}
	got := h.rec.calls()
	if len(got) != len(want) {
		t.Fatalf("ApplyStatus called %d times, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Tenant != tenant || g.Channel != conversations.ChannelEmail || g.Message != w.Message || g.ProviderID != w.ProviderID ||
			g.Status != w.Status || !g.At.Equal(w.At) || g.ErrorCode != w.ErrorCode {
			t.Errorf("update %d = %+v\nwant %+v (tenant %s, channel email)", i, g, w, tenant)
		}
		failed := g.Status == conversations.StatusUndelivered || g.Status == conversations.StatusFailed
		if failed != (g.ErrorReason != "") {
			t.Errorf("update %d: a failure (and only a failure) carries a plain-language reason; got %q", i, g.ErrorReason)
		}
	}
}

func TestRepeatedBatchIsHarmless(t *testing.T) {
	h := newHooks(t)
	body := readFile(t, "events.json")
	for i := range 2 {
		if status := h.post(t, body); status != http.StatusOK {
			t.Fatalf("delivery %d: status %d, want 200", i+1, status)
		}
	}
	// The Receiver sees the same updates twice and, being forward-only,
	// changes nothing the second time: the handler keeps no state of its own.
	if got := len(h.rec.calls()); got != 12 {
		t.Errorf("ApplyStatus called %d times for two deliveries of 6 updates, want 12", got)
	}
}

func TestSendThenEventCorrelates(t *testing.T) {
	api := sendgridtest.NewServer(t)
	ch := newChannel(t, api)
	h := newHooks(t)
	out := outbound()
	r, err := ch.Send(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	sent := api.Sends()[0]
	delivered := sent.Event("delivered", fixedNow.Add(-time.Minute))
	delivered.Response = "250 2.0.0 OK"
	if status := h.post(t, sendgridtest.Batch(sent.Event("processed", fixedNow.Add(-2*time.Minute)), delivered)); status != http.StatusOK {
		t.Fatalf("status %d, want 200", status)
	}
	got := h.rec.calls()
	if len(got) != 2 {
		t.Fatalf("ApplyStatus called %d times, want 2", len(got))
	}
	for _, u := range got {
		if u.Message != out.Message || u.Tenant != out.Tenant || u.ProviderID != r.ProviderID || u.Channel != conversations.ChannelEmail {
			t.Errorf("update = %+v, want message %s of %s with X-Message-Id %s", u, out.Message, out.Tenant, r.ProviderID)
		}
	}
	if got[1].Status != conversations.StatusDelivered || !got[1].At.Equal(fixedNow.Add(-time.Minute)) {
		t.Errorf("second update = %+v, want delivered a minute ago", got[1])
	}
}

func TestForgedRequestsChangeNothing(t *testing.T) {
	h := newHooks(t)
	body := readFile(t, "events.json")
	other := newSigner(t)
	now := strconv.FormatInt(fixedNow.Unix(), 10)
	// signed returns the headers of body signed by s with timestamp ts,
	// edited by the edits (key, value; an empty value deletes).
	signed := func(s *sendgridtest.Signer, ts string, b []byte, edits ...string) http.Header {
		hdr := http.Header{}
		hdr.Set("Content-Type", "application/json")
		hdr.Set(sendgrid.TimestampHeader, ts)
		hdr.Set(sendgrid.SignatureHeader, s.Sign(ts, b))
		for i := 0; i < len(edits); i += 2 {
			if edits[i+1] == "" {
				hdr.Del(edits[i])
			} else {
				hdr.Set(edits[i], edits[i+1])
			}
		}
		return hdr
	}
	minutes := func(m int) string { return strconv.FormatInt(fixedNow.Add(time.Duration(m)*time.Minute).Unix(), 10) }
	tampered := bytes.Replace(body, []byte(`"event": "bounce"`), []byte(`"event": "delivered"`), 1)
	if bytes.Equal(tampered, body) {
		t.Fatal("testdata/events.json has no bounce to tamper with")
	}
	tests := []struct {
		name   string
		body   []byte
		header http.Header
	}{
		{"no headers", body, http.Header{}},
		{"no signature", body, signed(h.signer, now, body, sendgrid.SignatureHeader, "")},
		{"no timestamp", body, signed(h.signer, now, body, sendgrid.TimestampHeader, "")},
		{"signed with another key", body, signed(other, now, body)},
		{"body changed after signing", tampered, signed(h.signer, now, body)},
		{"timestamp changed after signing", body, signed(h.signer, now, body, sendgrid.TimestampHeader, minutes(-1))},
		{"signature not base64", body, signed(h.signer, now, body, sendgrid.SignatureHeader, "%%%")},
		{"signature not ASN.1", body, signed(h.signer, now, body, sendgrid.SignatureHeader, "bm90IGEgc2lnbmF0dXJl")},
		{"signature of an empty body", body, signed(h.signer, now, nil)},
		{"stale: signed 11 minutes ago", body, signed(h.signer, minutes(-11), body)},
		{"from the future: 11 minutes ahead", body, signed(h.signer, minutes(11), body)},
		{"timestamp not a number", body, signed(h.signer, "yesterday", body)},
		{"timestamp far out of range", body, signed(h.signer, "-9223372036854775808", body)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status := h.raw(t, tt.body, tt.header); status != http.StatusForbidden {
				t.Errorf("status %d, want 403", status)
			}
		})
	}
	if got := h.rec.calls(); len(got) != 0 {
		t.Errorf("the receiver saw %d updates from refused requests; want none", len(got))
	}
	// The control: the same body, signed right, within the skew, passes.
	if status := h.raw(t, body, signed(h.signer, minutes(-9), body)); status != http.StatusOK {
		t.Errorf("correctly signed 9 minutes ago: status %d, want 200", status)
	}
}

func TestMaxSkewIsConfigurable(t *testing.T) {
	signer := newSigner(t)
	rec := &receiver{}
	wh, err := sendgrid.NewWebhook(sendgrid.WebhookConfig{PublicKey: signer.PublicKey(), MaxSkew: time.Minute}, rec, sendgrid.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	body := readFile(t, "events.json")
	for at, want := range map[time.Time]int{
		fixedNow.Add(-50 * time.Second): http.StatusOK,
		fixedNow.Add(-2 * time.Minute):  http.StatusForbidden,
	} {
		w := httptest.NewRecorder()
		wh.ServeHTTP(w, signer.Request("/sendgrid/events", body, at))
		if w.Code != want {
			t.Errorf("signed %v before now with a 1-minute skew: %d, want %d", fixedNow.Sub(at), w.Code, want)
		}
	}
}

func TestSendGridVectorThroughHandler(t *testing.T) {
	// SendGrid's published key and signature (sendgrid-go's eventwebhook
	// tests) over testdata/sdk_signed_vector.json, at the time it was signed.
	const (
		key = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
		sig = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM="
	)
	rec := &receiver{}
	wh, err := sendgrid.NewWebhook(sendgrid.WebhookConfig{PublicKey: key}, rec,
		sendgrid.WithClock(func() time.Time { return time.Unix(1600112502, 0) }))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/sendgrid/events", bytes.NewReader(readFile(t, "sdk_signed_vector.json")))
	r.Header.Set(sendgrid.SignatureHeader, sig)
	r.Header.Set(sendgrid.TimestampHeader, "1600112502")
	w := httptest.NewRecorder()
	wh.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("SendGrid's own signed request: %d, want 200", w.Code)
	}
	if got := rec.calls(); len(got) != 0 {
		t.Errorf("its event has no custom arguments of ours, yet %d updates were applied", len(got))
	}
}

func TestNewWebhookRejectsBadConfig(t *testing.T) {
	good := newSigner(t).PublicKey()
	for name, tt := range map[string]struct {
		cfg  sendgrid.WebhookConfig
		r    sendgrid.Receiver
		opts []sendgrid.Option
	}{
		"no key":            {cfg: sendgrid.WebhookConfig{}, r: &receiver{}},
		"key not base64":    {cfg: sendgrid.WebhookConfig{PublicKey: "-- not a key --"}, r: &receiver{}},
		"key truncated":     {cfg: sendgrid.WebhookConfig{PublicKey: good[:len(good)/2]}, r: &receiver{}},
		"key of other type": {cfg: sendgrid.WebhookConfig{PublicKey: otherTypeKey(t)}, r: &receiver{}},
		"negative skew":     {cfg: sendgrid.WebhookConfig{PublicKey: good, MaxSkew: -time.Second}, r: &receiver{}},
		"no receiver":       {cfg: sendgrid.WebhookConfig{PublicKey: good}},
		"zero body limit":   {cfg: sendgrid.WebhookConfig{PublicKey: good}, r: &receiver{}, opts: []sendgrid.Option{sendgrid.WithMaxBodyBytes(0)}},
	} {
		t.Run(name, func(t *testing.T) {
			wh, err := sendgrid.NewWebhook(tt.cfg, tt.r, tt.opts...)
			if !errors.Is(err, conversations.ErrInvalid) || wh != nil {
				t.Errorf("NewWebhook = %v, %v; want nil and ErrInvalid", wh, err)
			}
		})
	}
}

// otherTypeKey returns a well-formed public key that is not ECDSA (Ed25519),
// base64 DER: sendgrid-go's ConvertPublicKeyBase64ToECDSA panics on such a key.
func otherTypeKey(t *testing.T) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func TestOversizeBody(t *testing.T) {
	h := newHooks(t)
	big := sendgridtest.Batch(sendgridtest.Event{Event: "delivered", Email: customerAddress, Timestamp: fixedNow,
		Response: strings.Repeat("x", sendgrid.DefaultMaxBodyBytes)})
	if status := h.post(t, big); status != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", status)
	}
	small := newHooks(t, sendgrid.WithMaxBodyBytes(100))
	if status := small.post(t, readFile(t, "events.json")); status != http.StatusRequestEntityTooLarge {
		t.Errorf("with a 100-byte limit: status %d, want 413", status)
	}
	if len(h.rec.calls())+len(small.rec.calls()) != 0 {
		t.Errorf("an oversize request reached the receiver")
	}
}

func TestWebhookRejectsGET(t *testing.T) {
	h := newHooks(t)
	resp, err := http.Get(h.srv.URL + "/sendgrid/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
		t.Errorf("GET: %d (Allow %q), want 405 with Allow: POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestSignedBodyThatIsNotABatch(t *testing.T) {
	h := newHooks(t)
	for _, body := range []string{`{"event":"delivered"}`, `not json`, ``} {
		if status := h.post(t, []byte(body)); status != http.StatusBadRequest {
			t.Errorf("%q: status %d, want 400", body, status)
		}
	}
	if status := h.post(t, []byte("[]\r\n")); status != http.StatusOK {
		t.Errorf("an empty batch: status %d, want 200", status)
	}
}

func TestReceiverErrorsDecideTheAnswer(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		want  int
		calls int // ApplyStatus calls for the 6 updates of testdata/events.json
	}{
		{"unavailable stops the batch", conversations.ErrUnavailable, http.StatusServiceUnavailable, 1},
		{"temporary provider error", &conversations.ProviderError{Provider: "x", Op: "y", Class: conversations.Retryable}, http.StatusServiceUnavailable, 1},
		{"deadline", context.DeadlineExceeded, http.StatusServiceUnavailable, 1},
		{"not found is settled", conversations.ErrNotFound, http.StatusOK, 6},
		{"invalid is settled", conversations.Invalid("status", "unknown"), http.StatusOK, 6},
		{"forbidden is settled", conversations.ErrForbidden, http.StatusOK, 6},
		{"conflict: the rest still applied, then 500", conversations.ErrConflict, http.StatusInternalServerError, 6},
		{"unclassified: the rest still applied, then 500", errors.New("disk on fire"), http.StatusInternalServerError, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHooks(t)
			h.rec.fail = func(conversations.StatusUpdate) error { return tt.err }
			if status := h.post(t, readFile(t, "events.json")); status != tt.want {
				t.Errorf("status %d, want %d", status, tt.want)
			}
			if got := len(h.rec.calls()); got != tt.calls {
				t.Errorf("ApplyStatus called %d times, want %d", got, tt.calls)
			}
		})
	}
}

func TestOneFailingEventDoesNotHoldUpOthers(t *testing.T) {
	h := newHooks(t)
	h.rec.fail = func(u conversations.StatusUpdate) error {
		if u.Message == msgBounced {
			return conversations.ErrNotFound // e.g. the message was sent by another environment
		}
		return nil
	}
	if status := h.post(t, readFile(t, "events.json")); status != http.StatusOK {
		t.Errorf("status %d, want 200: a permanently refused event is settled", status)
	}
	var dropped bool
	for _, u := range h.rec.calls() {
		dropped = dropped || u.Message == msgDropped
	}
	if !dropped {
		t.Errorf("the event after the refused ones was not applied")
	}
}

// The Webhook's Receiver is the Service.
var _ sendgrid.Receiver = (*conversations.Service)(nil)
