package twilio_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/channel/twilio"
	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
)

const wantTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

// hooks is the app side of the webhooks: the handlers behind a loopback
// server that Twilio reaches as publicURL (a proxy sits in between).
type hooks struct {
	rec    *receiver
	srv    *httptest.Server
	client *twiliotest.WebhookClient
}

func newHooks(t *testing.T, opts ...twilio.Option) *hooks {
	t.Helper()
	rec := newReceiver()
	wh, err := twilio.NewWebhooks(twilio.Config{AuthToken: twiliotest.AuthToken, PublicURL: publicURL}, rec,
		append([]twilio.Option{twilio.WithClock(clock)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/twilio/inbound", wh.Inbound())
	mux.Handle("/twilio/status", wh.Status())
	mux.Handle("/hooks/", http.StripPrefix("/hooks", mux))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &hooks{
		rec: rec, srv: srv,
		client: &twiliotest.WebhookClient{Signer: twiliotest.Signer{AuthToken: twiliotest.AuthToken}, Target: srv.URL},
	}
}

// post delivers form to the public URL as Twilio would and returns the
// status and body of the answer.
func (h *hooks) post(t *testing.T, publicPath string, form url.Values, token string) (int, string, http.Header) {
	t.Helper()
	resp, err := h.client.Post(context.Background(), publicURL+publicPath, form, token)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

// raw sends form to the handler with the given signature header (none when
// empty), bypassing the signing client.
func (h *hooks) raw(t *testing.T, path string, form url.Values, signature string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if signature != "" {
		req.Header.Set("X-Twilio-Signature", signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestInboundSMS(t *testing.T) {
	h := newHooks(t)
	status, body, header := h.post(t, "/twilio/inbound", readForm(t, "inbound_sms.form"), "")
	if status != http.StatusOK || body != wantTwiML || !strings.HasPrefix(header.Get("Content-Type"), "text/xml") {
		t.Fatalf("answer = %d %q (%s), want 200 with empty TwiML as text/xml", status, body, header.Get("Content-Type"))
	}
	got, _, _, _ := h.rec.snapshot()
	if len(got) != 1 {
		t.Fatalf("Receive called %d times, want 1", len(got))
	}
	want := conversations.InboundMessage{
		Tenant:         "acme-plumbing",
		Channel:        conversations.ChannelSMS,
		BusinessNumber: businessNumber,
		From:           customerNumber,
		Body:           "Hi, is the technician still coming today? The gate code is 4821.",
		ProviderID:     "SM3f9c2a7b5d1e4c8a9b0f6d2e1c7a5b34",
		ReceivedAt:     fixedNow,
	}
	if g := got[0]; g.Tenant != want.Tenant || g.Channel != want.Channel || g.BusinessNumber != want.BusinessNumber ||
		g.From != want.From || g.Body != want.Body || g.ProviderID != want.ProviderID || !g.ReceivedAt.Equal(want.ReceivedAt) || len(g.Media) != 0 {
		t.Errorf("Receive got %+v, want %+v", g, want)
	}
}

func TestInboundMMSCarriesMedia(t *testing.T) {
	h := newHooks(t)
	if status, _, _ := h.post(t, "/twilio/inbound", readForm(t, "inbound_mms.form"), ""); status != http.StatusOK {
		t.Fatalf("status %d, want 200", status)
	}
	got, _, _, _ := h.rec.snapshot()
	if len(got) != 1 || len(got[0].Media) != 2 {
		t.Fatalf("Receive got %+v, want one message with 2 media", got)
	}
	m := got[0].Media
	if m[0].ContentType != "image/jpeg" || m[1].ContentType != "image/png" ||
		!strings.HasPrefix(m[0].URL, "https://api.twilio.com/2010-04-01/Accounts/") || m[0].URL == m[1].URL {
		t.Errorf("media = %+v", m)
	}
}

func TestInboundRepeatedDeliveryIsHarmless(t *testing.T) {
	h := newHooks(t)
	form := readForm(t, "inbound_sms.form")
	for i := range 3 {
		if status, body, _ := h.post(t, "/twilio/inbound", form, "idem-token-1"); status != http.StatusOK || body != wantTwiML {
			t.Fatalf("delivery %d: %d %q, want 200 with empty TwiML", i+1, status, body)
		}
	}
	receives, stored, _, _ := h.rec.snapshot()
	if len(receives) != 3 || stored != 1 {
		t.Errorf("3 deliveries: Receive called %d times (want once per delivery), %d stored (want 1)", len(receives), stored)
	}
}

func TestInboundUnknownNumber(t *testing.T) {
	h := newHooks(t)
	form := readForm(t, "inbound_sms.form")
	form.Set("To", "+14155550199")
	if status, _, _ := h.post(t, "/twilio/inbound", form, ""); status != http.StatusNotFound {
		t.Errorf("status %d, want 404 for a number no business owns", status)
	}
	if receives, _, _, _ := h.rec.snapshot(); len(receives) != 0 {
		t.Errorf("a message was filed for an unknown number")
	}
}

func TestInboundBadForm(t *testing.T) {
	h := newHooks(t)
	for name, mutate := range map[string]func(url.Values){
		"no sid":          func(f url.Values) { f.Del("MessageSid"); f.Del("SmsMessageSid"); f.Del("SmsSid") },
		"short code from": func(f url.Values) { f.Set("From", "72345") },
		"too many media":  func(f url.Values) { f.Set("NumMedia", "11") },
		"missing media":   func(f url.Values) { f.Set("NumMedia", "1") },
	} {
		t.Run(name, func(t *testing.T) {
			form := readForm(t, "inbound_sms.form")
			mutate(form)
			if status, _, _ := h.post(t, "/twilio/inbound", form, ""); status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", status)
			}
		})
	}
	if receives, _, _, _ := h.rec.snapshot(); len(receives) != 0 {
		t.Errorf("Receive was called for a bad form")
	}
}

func TestSignatureChecks(t *testing.T) {
	h := newHooks(t)
	form := readForm(t, "inbound_sms.form")
	signer := twiliotest.Signer{AuthToken: twiliotest.AuthToken}
	tampered := readForm(t, "inbound_sms.form")
	tampered.Set("Body", "Please cancel my appointment")
	hostURL := h.srv.URL + "/twilio/inbound" // what r.Host gives behind the proxy

	tests := []struct {
		name      string
		form      url.Values
		signature string
	}{
		{"missing", form, ""},
		{"forged", form, "bm90IGEgc2lnbmF0dXJlIGF0IGFsbA=="},
		{"not base64", form, "%%%"},
		{"body changed after signing", tampered, signer.Sign(publicURL+"/twilio/inbound", form)},
		{"wrong token", form, twiliotest.Signer{AuthToken: "ffffffffffffffffffffffffffffffff"}.Sign(publicURL+"/twilio/inbound", form)},
		{"wrong URL", form, signer.Sign("https://evil.example.com/twilio/inbound", form)},
		{"other path", form, signer.Sign(publicURL+"/twilio/status", form)},
		{"over r.Host instead of the public URL", form, signer.Sign(hostURL, form)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status := h.raw(t, "/twilio/inbound", tt.form, tt.signature); status != http.StatusForbidden {
				t.Errorf("status %d, want 403", status)
			}
		})
	}
	receives, _, statuses, ownerCalls := h.rec.snapshot()
	if len(receives) != 0 || len(statuses) != 0 || ownerCalls != 0 {
		t.Errorf("the receiver saw %d receives, %d statuses, %d owner lookups for refused requests; want none",
			len(receives), len(statuses), ownerCalls)
	}

	// The control: the same request signed over the public URL passes.
	if status := h.raw(t, "/twilio/inbound", form, signer.Sign(publicURL+"/twilio/inbound", form)); status != http.StatusOK {
		t.Errorf("correctly signed: status %d, want 200", status)
	}
	// Twilio has signed with the default port spelled out; that passes too.
	if status := h.raw(t, "/twilio/inbound", form, signer.Sign("https://hooks.example.com:443/twilio/inbound", form)); status != http.StatusOK {
		t.Errorf("signed with :443: status %d, want 200", status)
	}
}

func TestSignatureBehindStripPrefix(t *testing.T) {
	h := newHooks(t)
	// Twilio calls https://hooks.example.com/hooks/twilio/inbound; the app
	// mounts its handlers under /hooks with http.StripPrefix.
	if status, _, _ := h.post(t, "/hooks/twilio/inbound", readForm(t, "inbound_sms.form"), ""); status != http.StatusOK {
		t.Errorf("status %d, want 200: the signature covers the path Twilio called, not the stripped one", status)
	}
}

func TestOversizeBody(t *testing.T) {
	h := newHooks(t)
	form := readForm(t, "inbound_sms.form")
	form.Set("Body", strings.Repeat("x", 70<<10))
	if status, _, _ := h.post(t, "/twilio/inbound", form, ""); status != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", status)
	}
	small := newHooks(t, twilio.WithMaxBodyBytes(100))
	if status, _, _ := small.post(t, "/twilio/status", readForm(t, "status_sent.form"), ""); status != http.StatusRequestEntityTooLarge {
		t.Errorf("with a 100-byte limit: status %d, want 413", status)
	}
	if receives, _, statuses, _ := h.rec.snapshot(); len(receives) != 0 || len(statuses) != 0 {
		t.Errorf("an oversize request reached the receiver")
	}
}

func TestWebhookRejectsGET(t *testing.T) {
	h := newHooks(t)
	resp, err := http.Get(h.srv.URL + "/twilio/inbound")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
		t.Errorf("GET: %d (Allow %q), want 405 with Allow: POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestStatusCallbacks(t *testing.T) {
	const sid = "SM6b2e9f4a1c7d4e0b8a5f3c2d1e9b7a46"
	path := "/twilio/status?" + twilio.QueryMessage + "=msg-7&" + twilio.QueryTenant + "=acme-plumbing"
	tests := []struct {
		file string
		want conversations.StatusUpdate
	}{
		{"status_sent.form", conversations.StatusUpdate{Status: conversations.StatusSent, At: fixedNow}},
		{"status_delivered.form", conversations.StatusUpdate{
			Status: conversations.StatusDelivered, At: time.Date(2025, 3, 14, 15, 32, 0, 0, time.UTC),
		}},
		{"status_undelivered_30003.form", conversations.StatusUpdate{
			Status: conversations.StatusUndelivered, At: fixedNow, ErrorCode: "30003",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h := newHooks(t)
			status, body, _ := h.post(t, path, readForm(t, tt.file), "")
			if status != http.StatusOK || body != wantTwiML {
				t.Fatalf("answer %d %q, want 200 with empty TwiML", status, body)
			}
			_, _, got, _ := h.rec.snapshot()
			if len(got) != 1 {
				t.Fatalf("ApplyStatus called %d times, want 1", len(got))
			}
			u := got[0]
			if u.Tenant != "acme-plumbing" || u.Message != "msg-7" || u.ProviderID != sid || u.Channel != conversations.ChannelSMS {
				t.Errorf("update names %q/%q/%q/%q; want our tenant and message id from the URL and the sid", u.Tenant, u.Message, u.ProviderID, u.Channel)
			}
			if u.Status != tt.want.Status || !u.At.Equal(tt.want.At) || u.ErrorCode != tt.want.ErrorCode {
				t.Errorf("update = %+v, want status %q at %v code %q", u, tt.want.Status, tt.want.At, tt.want.ErrorCode)
			}
			if (u.ErrorCode != "") != (u.ErrorReason != "") {
				t.Errorf("an error code comes with a plain-language reason; got %q / %q", u.ErrorCode, u.ErrorReason)
			}
		})
	}
}

func TestStatusWithoutTenantInURLUsesBusinessNumber(t *testing.T) {
	h := newHooks(t)
	if status, _, _ := h.post(t, "/twilio/status", readForm(t, "status_delivered.form"), ""); status != http.StatusOK {
		t.Fatalf("status %d, want 200", status)
	}
	_, _, got, _ := h.rec.snapshot()
	if len(got) != 1 || got[0].Tenant != "acme-plumbing" || got[0].Message != "" {
		t.Errorf("update = %+v, want the business number's tenant and no message id", got)
	}
}

func TestStatusNotApplied(t *testing.T) {
	h := newHooks(t)
	for _, st := range []string{"received", "some_new_status"} {
		form := readForm(t, "status_sent.form")
		form.Set("MessageStatus", st)
		form.Set("SmsStatus", st)
		if status, _, _ := h.post(t, "/twilio/status", form, ""); status != http.StatusOK {
			t.Errorf("%s: status %d, want 200 (acknowledged, so Twilio does not retry)", st, status)
		}
	}
	if _, _, got, _ := h.rec.snapshot(); len(got) != 0 {
		t.Errorf("ApplyStatus called with %+v; an inbound or unknown status must not be applied", got)
	}
}

// TestStatusCallbackCorrelates sends through the fake Twilio and posts the
// status report to the callback URL Send gave it.
func TestStatusCallbackCorrelates(t *testing.T) {
	api := twiliotest.NewServer(t)
	ch := newChannel(t, api)
	h := newHooks(t)
	out := outbound()
	r, err := ch.Send(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	callback := api.Creates()[0].Form.Get("StatusCallback")
	form := twiliotest.Status{MessageSID: r.ProviderID, From: businessNumber, To: customerNumber, Status: "delivered"}.Form()
	resp, err := h.client.Post(context.Background(), callback, form, "")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	_, _, got, _ := h.rec.snapshot()
	if len(got) != 1 || got[0].Message != out.Message || got[0].Tenant != out.Tenant || got[0].ProviderID != r.ProviderID {
		t.Errorf("update = %+v, want message %s of %s with sid %s", got, out.Message, out.Tenant, r.ProviderID)
	}
}

func TestReceiverErrorsBecomeStatuses(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"unavailable", conversations.ErrUnavailable, http.StatusServiceUnavailable},
		{"timeout", context.DeadlineExceeded, http.StatusServiceUnavailable},
		{"invalid", conversations.Invalid("body", "empty"), http.StatusBadRequest},
		{"not found", conversations.ErrNotFound, http.StatusNotFound},
		{"conflict", conversations.ErrConflict, http.StatusConflict},
		{"unknown", errors.New("disk on fire"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHooks(t)
			h.rec.receiveErr, h.rec.statusErr = tt.err, tt.err
			if status, _, _ := h.post(t, "/twilio/inbound", readForm(t, "inbound_sms.form"), ""); status != tt.want {
				t.Errorf("inbound: status %d, want %d", status, tt.want)
			}
			if status, _, _ := h.post(t, "/twilio/status", readForm(t, "status_sent.form"), ""); status != tt.want {
				t.Errorf("status callback: status %d, want %d", status, tt.want)
			}
		})
	}
}

func TestNewWebhooksRejectsBadConfig(t *testing.T) {
	rec := newReceiver()
	for name, tt := range map[string]struct {
		cfg twilio.Config
		r   twilio.Receiver
	}{
		"no token":       {twilio.Config{PublicURL: publicURL}, rec},
		"no public url":  {twilio.Config{AuthToken: twiliotest.AuthToken}, rec},
		"relative url":   {twilio.Config{AuthToken: twiliotest.AuthToken, PublicURL: "hooks.example.com"}, rec},
		"url with query": {twilio.Config{AuthToken: twiliotest.AuthToken, PublicURL: publicURL + "?a=b"}, rec},
		"no receiver":    {twilio.Config{AuthToken: twiliotest.AuthToken, PublicURL: publicURL}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := twilio.NewWebhooks(tt.cfg, tt.r); !errors.Is(err, conversations.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

// The handlers' Receiver is the Service; the Channel is the Service's Finder.
var (
	_ twilio.Receiver       = (*conversations.Service)(nil)
	_ conversations.Finder  = (*twilio.Channel)(nil)
	_ conversations.Channel = (*twilio.Channel)(nil)
)
