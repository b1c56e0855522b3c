package sendgrid

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sendgrid/rest"
	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
	sgmail "github.com/sendgrid/sendgrid-go/helpers/mail"

	"github.com/fieldtalk/fieldtalk/channel/sendgrid/sendgridtest"
	"github.com/fieldtalk/fieldtalk/conversations"
)

// fakeAPI answers every call with resp or err, without a network.
type fakeAPI struct {
	resp  *rest.Response
	err   error
	calls int
	last  *sgmail.SGMailV3
}

func (f *fakeAPI) sendMail(_ context.Context, m *sgmail.SGMailV3) (*rest.Response, error) {
	f.calls++
	f.last = m
	return f.resp, f.err
}

var now = time.Date(2025, 10, 21, 7, 27, 0, 0, time.UTC)

func testChannel(t *testing.T, a api) *Channel {
	t.Helper()
	c, err := New(Config{APIKey: sendgridtest.APIKey}, WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	c.api = a
	return c
}

func validOutbound() conversations.Outbound {
	return conversations.Outbound{
		Tenant: "t1", Message: "m1", Channel: conversations.ChannelEmail,
		From: "office@acme.example.com", To: "customer@example.net", Subject: "Visit", Body: "On my way",
	}
}

func response(status int, body string, kv ...string) *rest.Response {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return &rest.Response{StatusCode: status, Body: body, Headers: h}
}

func TestClassifyWithoutNetwork(t *testing.T) {
	refused := &url.Error{Op: "Post", URL: "https://api.sendgrid.com/v3/mail/send",
		Err: &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	date := now.Add(-2 * time.Second).Format(http.TimeFormat) // SendGrid's clock is behind ours
	tests := []struct {
		name       string
		resp       *rest.Response
		err        error
		class      conversations.ErrorClass
		status     int
		retryAfter time.Duration
	}{
		{"429 with reset, measured from Date", response(429, `{"errors":[{"field":null,"message":"too many requests"}]}`,
			"X-RateLimit-Reset", "1761031638", "Date", date), nil, conversations.Retryable, 429, 20 * time.Second},
		{"429 with reset, no Date", response(429, "", "X-RateLimit-Reset", "1761031640"), nil, conversations.Retryable, 429, 20 * time.Second},
		{"429 with Retry-After", response(429, "", "Retry-After", "12", "X-RateLimit-Reset", "1761031640"), nil, conversations.Retryable, 429, 12 * time.Second},
		{"429 with reset days ahead", response(429, "", "X-RateLimit-Reset", "1771031640"), nil, conversations.Retryable, 429, 0},
		{"429 with reset passed", response(429, "", "X-RateLimit-Reset", "1761031000"), nil, conversations.Retryable, 429, 0},
		{"429 with nothing", response(429, ""), nil, conversations.Retryable, 429, 0},
		{"400", response(400, `{"errors":[{"message":"Invalid type. Expected: string","field":"subject","help":null}]}`), nil, conversations.Permanent, 400, 0},
		{"401", response(401, `{"errors":[{"field":null,"message":"Maximum credits exceeded","help":null}]}`), nil, conversations.Permanent, 401, 0},
		{"HTML 502 from an edge", response(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"), nil, conversations.MaybeSent, 502, 0},
		{"301", response(301, "", "Location", "https://elsewhere.example.com/"), nil, conversations.Permanent, 301, 0},
		{"connection dropped after write", nil, &callError{err: io.ErrUnexpectedEOF, sent: true}, conversations.MaybeSent, 0, 0},
		{"dial refused", nil, &callError{err: refused}, conversations.Retryable, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fa := &fakeAPI{resp: tt.resp, err: tt.err}
			_, err := testChannel(t, fa).Send(context.Background(), validOutbound())
			var pe *conversations.ProviderError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %T %v, want *conversations.ProviderError", err, err)
			}
			if pe.Class != tt.class || pe.HTTPStatus != tt.status || pe.RetryAfter != tt.retryAfter {
				t.Errorf("got %v %d %v, want %v %d %v", pe.Class, pe.HTTPStatus, pe.RetryAfter, tt.class, tt.status, tt.retryAfter)
			}
			if pe.Reason == "" || strings.Contains(pe.Reason, "<html") || strings.Contains(pe.Reason, "{") {
				t.Errorf("Reason %q must be plain language", pe.Reason)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("the transport's error must stay in the chain")
			}
			var ae *apiError
			if tt.resp != nil && (!errors.As(err, &ae) || ae.status != tt.status) {
				t.Errorf("the answer's status must be in the chain as an *apiError")
			}
			if fa.calls != 1 {
				t.Errorf("api called %d times, want 1 (no hidden retries)", fa.calls)
			}
		})
	}
}

func TestAcceptedReceipt(t *testing.T) {
	tests := []struct {
		name string
		resp *rest.Response
		want conversations.Receipt
	}{
		{"202 with id and Date", response(202, "", "X-Message-Id", "W86EgYT6SQKk0lRflfLRsA", "Date", "Tue, 21 Oct 2025 07:26:59 GMT"),
			conversations.Receipt{ProviderID: "W86EgYT6SQKk0lRflfLRsA", Status: conversations.StatusQueued, At: time.Date(2025, 10, 21, 7, 26, 59, 0, time.UTC)}},
		{"202 without Date", response(202, "", "X-Message-Id", "W86EgYT6SQKk0lRflfLRsA"),
			conversations.Receipt{ProviderID: "W86EgYT6SQKk0lRflfLRsA", Status: conversations.StatusQueued, At: now}},
		// Sandbox mode: accepted, but SendGrid names no message.
		{"200 without id", response(200, ""), conversations.Receipt{Status: conversations.StatusQueued, At: now}},
		{"202 with an id that is not one", response(202, "", "X-Message-Id", "a.b c"), conversations.Receipt{Status: conversations.StatusQueued, At: now}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := testChannel(t, &fakeAPI{resp: tt.resp}).Send(context.Background(), validOutbound())
			if err != nil || r != tt.want {
				t.Errorf("Send = %+v, %v; want %+v", r, err, tt.want)
			}
		})
	}
}

func TestMessageBody(t *testing.T) {
	fa := &fakeAPI{resp: response(202, "", "X-Message-Id", "abc")}
	out := validOutbound()
	out.Thread = "th1"
	if _, err := testChannel(t, fa).Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	m := fa.last
	if m.From == nil || m.From.Address != out.From || m.From.Name != "" || m.Subject != "Visit" {
		t.Errorf("from/subject = %+v / %q", m.From, m.Subject)
	}
	if m.CustomArgs[ArgMessage] != "m1" || m.CustomArgs[ArgTenant] != "t1" || m.CustomArgs[ArgThread] != "th1" {
		t.Errorf("custom args = %v", m.CustomArgs)
	}
}

func TestHTMLBody(t *testing.T) {
	tests := map[string]struct {
		body  string
		media []conversations.Media
		want  string
	}{
		"paragraphs and breaks": {"a\r\nb\n\n\n<script>alert(1)</script>", nil, "<p>a<br>b</p>\n<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"},
		"quotes":                {`He said "hi" & left`, nil, "<p>He said &#34;hi&#34; &amp; left</p>\n"},
		"media only":            {"", []conversations.Media{{URL: `https://x.example.com/a"b.jpg`}}, `<p><a href="https://x.example.com/a&#34;b.jpg">https://x.example.com/a&#34;b.jpg</a></p>` + "\n"},
	}
	for name, tt := range tests {
		if got := htmlBody(tt.body, tt.media); got != tt.want {
			t.Errorf("%s: htmlBody = %q, want %q", name, got, tt.want)
		}
	}
	if got := textBody("", []conversations.Media{{URL: "https://a.example.com/1"}, {URL: "https://a.example.com/2"}}); got != "https://a.example.com/1\nhttps://a.example.com/2" {
		t.Errorf("textBody of media only = %q", got)
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"  a\r\n\tb  ":          "a b",
		"x\x00y":                "x y",
		"bad \xff utf8":         "bad utf8",
		strings.Repeat("é", 10): "éééé…", // 8 bytes of é fit before the 3-byte ellipsis in 12
	} {
		if got := clean(in, 12); got != want {
			t.Errorf("clean(%q, 12) = %q, want %q", in, got, want)
		}
		if got := clean(in, 12); len(got) > 12 || !utf8.ValidString(got) {
			t.Errorf("clean(%q, 12) = %q: over the limit or not UTF-8", in, got)
		}
	}
}

func TestRetryAfterHeaders(t *testing.T) {
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	tests := []struct {
		h    http.Header
		want time.Duration
	}{
		{h(), 0},
		{h("Retry-After", "120"), 2 * time.Minute},
		{h("Retry-After", "-5"), 0},
		{h("Retry-After", "Tue, 21 Oct 2025 07:27:30 GMT"), 30 * time.Second},
		{h("Retry-After", "soon", "X-RateLimit-Reset", "1761031625"), 5 * time.Second},
		{h("X-RateLimit-Reset", "not a number"), 0},
		{h("X-RateLimit-Reset", "99999999999999999999"), 0},
		{h("X-RateLimit-Reset", "1761031625", "Date", "garbage"), 5 * time.Second},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.h, now); got != tt.want {
			t.Errorf("retryAfter(%v) = %v, want %v", tt.h, got, tt.want)
		}
	}
}

// SendGrid's published test vector, from sendgrid-go's helpers/eventwebhook
// tests: its key, and its signature of testdata/sdk_signed_vector.json at
// this timestamp.
const (
	sdkPublicKey = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
	sdkSignature = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM="
	sdkTimestamp = "1600112502"
)

func TestVerifyMatchesSendGridVector(t *testing.T) {
	body, err := os.ReadFile("testdata/sdk_signed_vector.json")
	if err != nil {
		t.Fatal(err)
	}
	key, err := parsePublicKey(sdkPublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sdkKey, err := eventwebhook.ConvertPublicKeyBase64ToECDSA(sdkPublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := eventwebhook.VerifySignature(sdkKey, body, sdkSignature, sdkTimestamp); !ok || err != nil {
		t.Fatalf("the SDK refuses its own vector (%v): testdata/sdk_signed_vector.json is not byte-exact", err)
	}
	h := http.Header{}
	h.Set(SignatureHeader, sdkSignature)
	h.Set(TimestampHeader, sdkTimestamp)
	at := time.Unix(1600112502, 0)
	if err := verifySignature(key, h, body, at, time.Minute); err != nil {
		t.Errorf("SendGrid's own signature refused: %v", err)
	}
	if err := verifySignature(key, h, body, at.Add(time.Hour), time.Minute); !errors.Is(err, errStale) {
		t.Errorf("an hour later: %v, want stale", err)
	}
	// The trailing CRLF is part of what SendGrid signs.
	if err := verifySignature(key, h, body[:len(body)-2], at, time.Minute); !errors.Is(err, errForged) {
		t.Errorf("without the trailing CRLF: %v, want forged", err)
	}
}

// TestSignerAgreesWithSDK checks sendgridtest.Signer against sendgrid-go's
// verifier, so the fake signs as SendGrid does.
func TestSignerAgreesWithSDK(t *testing.T) {
	s, err := sendgridtest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("testdata/events.json")
	if err != nil {
		t.Fatal(err)
	}
	h := s.Header(body, now)
	sdkKey, err := eventwebhook.ConvertPublicKeyBase64ToECDSA(s.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := eventwebhook.VerifySignature(sdkKey, body, h.Get(SignatureHeader), h.Get(TimestampHeader)); !ok || err != nil {
		t.Fatalf("sendgrid-go refuses sendgridtest's signature (%v)", err)
	}
	key, err := parsePublicKey(s.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if err := verifySignature(key, h, body, now, time.Minute); err != nil {
		t.Errorf("our verifier refuses a signature the SDK accepts: %v", err)
	}
}

func TestParsePublicKey(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	b64 := func(pub any) string {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(der)
	}
	sdkDER, _ := base64.StdEncoding.DecodeString(sdkPublicKey)
	good := map[string]string{
		"as SendGrid shows it":    sdkPublicKey,
		"pasted with line breaks": sdkPublicKey[:40] + "\n" + sdkPublicKey[40:] + "\n",
		"as PEM":                  string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: sdkDER})),
	}
	for name, s := range good {
		if _, err := parsePublicKey(s); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := map[string]string{
		"empty":          "",
		"not base64":     "not a key!",
		"not DER":        base64.StdEncoding.EncodeToString([]byte("hello")),
		"truncated":      sdkPublicKey[:60],
		"RSA key":        b64(&rsaKey.PublicKey), // eventwebhook.ConvertPublicKeyBase64ToECDSA panics on this
		"P-384 key":      b64(&p384.PublicKey),
		"PEM of another": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: sdkDER})),
	}
	for name, s := range bad {
		if _, err := parsePublicKey(s); !errors.Is(err, conversations.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestParseEvent(t *testing.T) {
	at := time.Unix(1741966809, 0).UTC()
	ours := `"ft_message":"m1","ft_tenant":"t1",`
	tests := []struct {
		name  string
		raw   string
		apply bool
		bad   bool
		want  conversations.StatusUpdate
	}{
		{"processed", `{` + ours + `"event":"processed","timestamp":1741966809,"sg_message_id":"W86E.recvd-1.0"}`, true, false,
			conversations.StatusUpdate{Status: conversations.StatusSending, ProviderID: "W86E", At: at}},
		{"delivered", `{` + ours + `"event":"delivered","timestamp":1741966809,"sg_message_id":"W86E.x.0"}`, true, false,
			conversations.StatusUpdate{Status: conversations.StatusDelivered, ProviderID: "W86E", At: at}},
		{"click", `{` + ours + `"event":"click","timestamp":1741966809}`, true, false,
			conversations.StatusUpdate{Status: conversations.StatusDelivered, At: at}},
		{"blocked bounce without status or message id", `{` + ours + `"event":"bounce","type":"blocked","reason":"unable to get mx info","timestamp":1741966809}`, true, false,
			conversations.StatusUpdate{Status: conversations.StatusUndelivered, At: at,
				ErrorReason: "the customer's mail server blocked the email (unable to get mx info)"}},
		{"bounce with classification", `{` + ours + `"event":"bounce","type":"bounce","status":"5.2.2","bounce_classification":"Mailbox Unavailable","timestamp":1741966809}`, true, false,
			conversations.StatusUpdate{Status: conversations.StatusUndelivered, At: at, ErrorCode: "5.2.2",
				ErrorReason: "the customer's mailbox is unavailable (full, disabled or not accepting mail)"}},
		{"dropped, spam content", `{` + ours + `"event":"dropped","reason":"Spam Content (if spam checker app enabled)","status":"5.0.0","timestamp":1741966809}`, true, false,
			conversations.StatusUpdate{Status: conversations.StatusFailed, At: at, ErrorCode: "5.0.0",
				ErrorReason: "SendGrid did not send it: its spam checker flagged the content"}},
		{"dropped, unknown reason", `{` + ours + `"event":"dropped","reason":"Something new","status":"not-smtp","timestamp":1741966809}`, true, false,
			conversations.StatusUpdate{Status: conversations.StatusFailed, At: at, ErrorReason: "SendGrid did not send it: Something new"}},
		{"timestamp as float", `{` + ours + `"event":"delivered","timestamp":1741966809.0}`, true, false,
			conversations.StatusUpdate{Status: conversations.StatusDelivered, At: at}},
		{"no timestamp", `{` + ours + `"event":"delivered"}`, true, false,
			conversations.StatusUpdate{Status: conversations.StatusDelivered}},
		{"attempt as number", `{` + ours + `"event":"deferred","attempt":3,"timestamp":1741966809}`, false, false, conversations.StatusUpdate{}},
		{"spamreport", `{` + ours + `"event":"spamreport","timestamp":1741966809}`, false, false, conversations.StatusUpdate{}},
		{"not ours", `{"event":"delivered","timestamp":1741966809,"sg_message_id":"W86E.x.0"}`, false, false, conversations.StatusUpdate{}},
		{"only a tenant", `{"ft_tenant":"t1","event":"delivered"}`, false, true, conversations.StatusUpdate{}},
		{"ours with a field of the wrong shape", `{` + ours + `"event":{"x":1}}`, false, true, conversations.StatusUpdate{}},
		{"not ours, wrong shape", `{"event":["delivered"]}`, false, false, conversations.StatusUpdate{}},
		{"not an object", `42`, false, false, conversations.StatusUpdate{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parseEvent([]byte(tt.raw))
			if p.apply != tt.apply || (p.bad != nil) != tt.bad {
				t.Fatalf("apply %v bad %v (skip %q), want apply %v bad %v", p.apply, p.bad, p.skip, tt.apply, tt.bad)
			}
			if tt.bad && !errors.Is(p.bad, conversations.ErrInvalid) {
				t.Errorf("a refused event is ErrInvalid; got %v", p.bad)
			}
			if !p.apply && !tt.bad && p.skip == "" {
				t.Errorf("a skipped event says why")
			}
			if !tt.apply {
				return
			}
			want := tt.want
			want.Tenant, want.Message, want.Channel = "t1", "m1", conversations.ChannelEmail
			if p.update != want {
				t.Errorf("update = %+v\nwant     %+v", p.update, want)
			}
		})
	}
}

func TestParseEventsRefusesNonArrays(t *testing.T) {
	for _, body := range []string{"", "{}", `{"event":"delivered"}`, "[", "null x"} {
		if _, err := parseEvents([]byte(body)); !errors.Is(err, conversations.ErrInvalid) {
			t.Errorf("parseEvents(%q) err = %v, want ErrInvalid", body, err)
		}
	}
}

var discard = slog.New(slog.DiscardHandler)

// countingReceiver counts updates.
type countingReceiver struct{ n int }

func (c *countingReceiver) ApplyStatus(context.Context, conversations.StatusUpdate) (conversations.Message, error) {
	c.n++
	return conversations.Message{}, nil
}
