package sendgrid

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fieldtalk/fieldtalk/conversations"
)

func FuzzParseEvents(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`[{"ft_message":"m","ft_tenant":"t","event":"bounce","status":"5.1.1","reason":"\u0000\ud800","timestamp":-1}]`,
		`[{"ft_message":"m","ft_tenant":"t","event":"dropped","timestamp":1e300,"sg_message_id":"..."}]`,
		`[{"ft_message":1,"ft_tenant":true,"event":"delivered","timestamp":"x"}]`,
		`[{"FT_MESSAGE":"m","ft_tenant":"t","event":"open"},null,[],"x",{"ft_message":null}]`,
		`[{"ft_message":"m","ft_tenant":"t","event":"processed","sg_message_id":"` + strings.Repeat("a", 300) + `.x"}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := parseEvents(body)
		if err != nil {
			if !errors.Is(err, conversations.ErrInvalid) {
				t.Fatalf("rule: a refused body is ErrInvalid; got %v", err)
			}
			return
		}
		for _, p := range events {
			outcomes := 0
			for _, b := range []bool{p.apply, p.bad != nil, p.skip != ""} {
				if b {
					outcomes++
				}
			}
			if outcomes != 1 {
				t.Fatalf("rule: each event is applied, refused or skipped, exactly one; got %+v", p)
			}
			if p.bad != nil && !errors.Is(p.bad, conversations.ErrInvalid) {
				t.Fatalf("rule: a refused event is ErrInvalid; got %v", p.bad)
			}
			if !p.apply {
				continue
			}
			u := p.update
			if u.Channel != conversations.ChannelEmail || u.Tenant == "" || u.Message == "" ||
				len(u.Tenant) > maxIDBytes || len(u.Message) > maxIDBytes {
				t.Fatalf("rule: an update names an email message of a tenant by our ids; got %+v", u)
			}
			if !u.Status.Valid() || u.Status == conversations.StatusReceived || u.Status == conversations.StatusQueued {
				t.Fatalf("rule: an update carries an outbound status past queued; got %q", u.Status)
			}
			if u.ProviderID != "" && !plausibleID(u.ProviderID) {
				t.Fatalf("rule: a provider id is an X-Message-Id (no '.', printable, short); got %q", u.ProviderID)
			}
			if u.ErrorCode != "" && smtpStatus(u.ErrorCode) != u.ErrorCode {
				t.Fatalf("rule: an error code is an SMTP status; got %q", u.ErrorCode)
			}
			failed := u.Status == conversations.StatusUndelivered || u.Status == conversations.StatusFailed
			if failed != (u.ErrorReason != "") || !utf8.ValidString(u.ErrorReason) || len(u.ErrorReason) > 500 ||
				strings.ContainsFunc(u.ErrorReason, isControl) {
				t.Fatalf("rule: a failure (only) has a short, printable reason; got %q for %q", u.ErrorReason, u.Status)
			}
			if !u.At.IsZero() && (u.At.Location() != time.UTC || u.At.Unix() <= 0) {
				t.Fatalf("rule: an event time is zero or a UTC time after 1970; got %v", u.At)
			}
		}
	})
}

// FuzzVerify posts arbitrary signature headers and bodies to the handler:
// nothing panics, and nothing unsigned reaches the Receiver.
func FuzzVerify(f *testing.F) {
	f.Add([]byte("[]"), "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=", "1600112502")
	f.Add([]byte(`[{"ft_message":"m","ft_tenant":"t","event":"delivered"}]`), "MAYCAQACAQA=", "0")
	f.Add([]byte(""), "", "")
	key, err := parsePublicKey(sdkPublicKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, sig, ts string) {
		rec := &countingReceiver{}
		wh := &Webhook{receiver: rec, key: key, maxSkew: DefaultMaxSkew, opts: options{
			logger: discard, now: func() time.Time { return time.Unix(1600112502, 0) }, maxBodyBytes: DefaultMaxBodyBytes,
		}}
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header[SignatureHeader] = []string{sig}
		r.Header[TimestampHeader] = []string{ts}
		w := httptest.NewRecorder()
		wh.ServeHTTP(w, r)
		// Only SendGrid's own vector verifies under its key, and its event
		// is not ours: no fuzzed request may reach the receiver.
		if rec.n > 0 {
			t.Fatalf("rule: only a verified request reaches the receiver; %d updates with answer %d", rec.n, w.Code)
		}
	})
}
