package sendgridtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"

	"github.com/fieldtalk/fieldtalk/channel/sendgrid/sendgridtest"
)

const validMail = `{"from":{"email":"office@acme.example.com","name":"Acme"},"subject":"Hi",` +
	`"personalizations":[{"to":[{"email":"jordan@example.net"}]}],` +
	`"content":[{"type":"text/plain","value":"Hello"},{"type":"text/html","value":"<p>Hello</p>"}],` +
	`"custom_args":{"ft_message":"m1"}}`

type answer struct {
	status int
	header http.Header
	errors []struct {
		Message string  `json:"message"`
		Field   *string `json:"field"`
	}
}

func post(t *testing.T, srv *sendgridtest.Server, key, path, body string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header}
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 {
		var parsed struct {
			Errors []struct {
				Message string  `json:"message"`
				Field   *string `json:"field"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(b, &parsed); err != nil {
			t.Fatalf("answer %d is not SendGrid's JSON error body: %q", resp.StatusCode, b)
		}
		a.errors = parsed.Errors
	}
	return a
}

func TestAcceptAndRecord(t *testing.T) {
	srv := sendgridtest.NewServer(t)
	at := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	srv.SetClock(func() time.Time { return at })
	a := post(t, srv, srv.APIKey(), sendgridtest.MailSendPath, validMail)
	id := a.header.Get("X-Message-Id")
	if a.status != http.StatusAccepted || len(id) != 22 || strings.Contains(id, ".") || a.header.Get("Date") != "Fri, 14 Mar 2025 09:00:00 GMT" {
		t.Fatalf("answer %d, X-Message-Id %q, Date %q; want 202, a 22-character id, the server's clock", a.status, id, a.header.Get("Date"))
	}
	sends := srv.Sends()
	if len(sends) != 1 || sends[0].MessageID != id || !sends[0].At.Equal(at) || string(sends[0].Body) != validMail {
		t.Fatalf("Sends() = %v", sends)
	}
	m := sends[0].Mail
	if m.From.Email != "office@acme.example.com" || m.Part("text/plain") != "Hello" || m.Part("text/html") != "<p>Hello</p>" ||
		m.CustomArgs["ft_message"] != "m1" || m.Personalizations[0].To[0].Email != "jordan@example.net" {
		t.Errorf("decoded mail = %+v", m)
	}
}

func TestRefusals(t *testing.T) {
	srv := sendgridtest.NewServer(t)
	edit := func(from, to string) string { return strings.Replace(validMail, from, to, 1) }
	tests := []struct {
		name   string
		key    string
		path   string
		body   string
		status int
		field  string
	}{
		{"wrong key", "SG.wrong.key", sendgridtest.MailSendPath, validMail, 401, ""},
		{"other path", srv.APIKey(), "/v3/marketing/contacts", validMail, 404, ""},
		{"not JSON", srv.APIKey(), sendgridtest.MailSendPath, "{", 400, ""},
		{"no from", srv.APIKey(), sendgridtest.MailSendPath, edit(`"from":{"email":"office@acme.example.com","name":"Acme"},`, ""), 400, "from.email"},
		{"bad to", srv.APIKey(), sendgridtest.MailSendPath, edit("jordan@example.net", "jordan"), 400, "personalizations.0.to.0.email"},
		{"no subject", srv.APIKey(), sendgridtest.MailSendPath, edit(`"subject":"Hi",`, ""), 400, "subject"},
		{"empty content", srv.APIKey(), sendgridtest.MailSendPath, edit(`"value":"Hello"`, `"value":""`), 400, "content.0.value"},
		{"html before text", srv.APIKey(), sendgridtest.MailSendPath,
			edit(`{"type":"text/plain","value":"Hello"},{"type":"text/html","value":"<p>Hello</p>"}`,
				`{"type":"text/html","value":"<p>Hello</p>"},{"type":"text/plain","value":"Hello"}`), 400, "content.1.type"},
		{"custom args too big", srv.APIKey(), sendgridtest.MailSendPath, edit(`"m1"`, `"`+strings.Repeat("x", 10000)+`"`), 400, "custom_args"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, srv, tt.key, tt.path, tt.body)
			if a.status != tt.status || len(a.errors) != 1 || a.errors[0].Message == "" {
				t.Fatalf("answer %d %+v, want %d with one error", a.status, a.errors, tt.status)
			}
			got := ""
			if a.errors[0].Field != nil {
				got = *a.errors[0].Field
			}
			if got != tt.field {
				t.Errorf("field %q, want %q", got, tt.field)
			}
		})
	}
	if n := len(srv.Sends()); n != 0 {
		t.Errorf("%d refused emails were recorded", n)
	}
}

func TestFaultsApplyToTheNextCalls(t *testing.T) {
	srv := sendgridtest.NewServer(t)
	at := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	srv.SetClock(func() time.Time { return at })
	srv.Fail(2, sendgridtest.RateLimit(1500*time.Millisecond))
	srv.Fail(1, sendgridtest.ServerError())
	srv.Fail(1, sendgridtest.APIError(http.StatusForbidden, sendgridtest.MessageUnverifiedSender, "from"))
	for range 2 {
		a := post(t, srv, srv.APIKey(), sendgridtest.MailSendPath, validMail)
		reset, _ := strconv.ParseInt(a.header.Get("X-RateLimit-Reset"), 10, 64)
		if a.status != http.StatusTooManyRequests || reset != at.Unix()+2 || a.header.Get("X-RateLimit-Remaining") != "0" {
			t.Errorf("rate limited: %d, reset %d; want 429 and the answer's Date plus 2s (rounded up)", a.status, reset)
		}
	}
	if a := post(t, srv, srv.APIKey(), sendgridtest.MailSendPath, validMail); a.status != http.StatusInternalServerError || len(a.errors) != 1 {
		t.Errorf("third call: %d %+v, want 500 with SendGrid's error body", a.status, a.errors)
	}
	a := post(t, srv, srv.APIKey(), sendgridtest.MailSendPath, validMail)
	if a.status != http.StatusForbidden || len(a.errors) != 1 || a.errors[0].Message != sendgridtest.MessageUnverifiedSender {
		t.Errorf("fourth call: %d %+v, want 403 unverified sender", a.status, a.errors)
	}
	if a := post(t, srv, srv.APIKey(), sendgridtest.MailSendPath, validMail); a.status != http.StatusAccepted {
		t.Errorf("fifth call: %d, want 202 (the faults are used up)", a.status)
	}
	if got := srv.Requests(); got != 5 {
		t.Errorf("Requests() = %d, want 5", got)
	}
	if got := len(srv.Sends()); got != 1 {
		t.Errorf("Sends() = %d, want 1: a failed call accepts nothing", got)
	}
}

func TestDropAcceptsThenCloses(t *testing.T) {
	srv := sendgridtest.NewServer(t)
	srv.Fail(1, sendgridtest.Drop())
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+sendgridtest.MailSendPath, strings.NewReader(validMail))
	req.Header.Set("Authorization", "Bearer "+srv.APIKey())
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer (%d); want the connection dropped", resp.StatusCode)
	}
	if len(srv.Sends()) != 1 {
		t.Errorf("the dropped email must be recorded: SendGrid had it")
	}
}

func TestHangEndsWhenTheClientGivesUp(t *testing.T) {
	srv := sendgridtest.NewServer(t)
	srv.Fail(1, sendgridtest.Hang())
	client := &http.Client{Timeout: 100 * time.Millisecond}
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+sendgridtest.MailSendPath, strings.NewReader(validMail))
	req.Header.Set("Authorization", "Bearer "+srv.APIKey())
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer (%d); want none", resp.StatusCode)
	}
	if len(srv.Sends()) != 0 {
		t.Errorf("a hung call accepted the email")
	}
}

func TestSignerAgreesWithSendGridSDK(t *testing.T) {
	s, err := sendgridtest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	body := sendgridtest.Batch(sendgridtest.Event{Event: "delivered", Email: "a@example.net", Timestamp: time.Unix(1741966805, 0),
		MessageID: "W86EgYT6SQKk0lRflfLRsA", Response: "250 OK <ok&done>", CustomArgs: map[string]string{"ft_message": "m1", "event": "forged"}})
	key, err := eventwebhook.ConvertPublicKeyBase64ToECDSA(s.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	h := s.Header(body, time.Unix(1741966810, 0))
	if h.Get(sendgridtest.TimestampHeader) != "1741966810" {
		t.Errorf("timestamp header %q, want Unix seconds", h.Get(sendgridtest.TimestampHeader))
	}
	if ok, err := eventwebhook.VerifySignature(key, body, h.Get(sendgridtest.SignatureHeader), h.Get(sendgridtest.TimestampHeader)); !ok || err != nil {
		t.Fatalf("sendgrid-go's verifier refuses the signature: %v", err)
	}
	if ok, _ := eventwebhook.VerifySignature(key, append(body, ' '), h.Get(sendgridtest.SignatureHeader), h.Get(sendgridtest.TimestampHeader)); ok {
		t.Errorf("the signature verifies over another body")
	}

	if !bytes.HasSuffix(body, []byte("}]\r\n")) || !bytes.Contains(body, []byte("<ok&done>")) {
		t.Errorf("batch %q: want a JSON array ending in CRLF, with HTML characters unescaped, as SendGrid posts", body)
	}
	var events []map[string]any
	if err := json.Unmarshal(body, &events); err != nil || len(events) != 1 {
		t.Fatalf("batch is not a JSON array of one event: %v", err)
	}
	e := events[0]
	if e["event"] != "delivered" || e["ft_message"] != "m1" || e["timestamp"] != float64(1741966805) ||
		!strings.HasPrefix(e["sg_message_id"].(string), "W86EgYT6SQKk0lRflfLRsA.") {
		t.Errorf("event = %v: custom args as top-level fields (never over SendGrid's own), Unix timestamp, sg_message_id = X-Message-Id + suffix", e)
	}
}
