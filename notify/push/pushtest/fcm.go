package pushtest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/notify/push"
)

// Project is the Firebase project the fake serves.
const Project = "fieldtalk-test"

// ClientEmail is the fake service account.
const ClientEmail = "fcm-sender@fieldtalk-test.iam.gserviceaccount.com"

// FCM is a fake of Firebase Cloud Messaging on loopback: the OAuth token
// endpoint (POST /token, the JWT bearer grant, checking the assertion's
// RS256 signature with the service account's public key and its claims) and
// the HTTP v1 send API (POST /v1/projects/{project}/messages:send, checking
// the access token and the message). It records what it accepted, per
// device token, and can be told to fail the way FCM does. Safe for
// concurrent use.
type FCM struct {
	srv   *httptest.Server
	key   *rsa.PrivateKey
	creds []byte

	faults *faults
	sent   *inbox[Sent]

	mu            sync.Mutex
	now           func() time.Time
	lifetime      time.Duration
	issued        map[string]bool
	tokenRequests int
	sendRequests  int
	unregistered  map[string]bool
	invalid       map[string]bool
}

// Sent is one message FCM accepted, as the sender wrote it.
type Sent struct {
	Token        string            `json:"token"`
	Notification *Alert            `json:"notification"` // nil for a silent push
	Data         map[string]string `json:"data"`
	Android      json.RawMessage   `json:"android"`
	APNS         json.RawMessage   `json:"apns"`
}

// Alert is what a shown push displays.
type Alert struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// NewFCM starts a fake with a fresh service-account key and closes it when
// tb's test ends.
func NewFCM(tb testing.TB) *FCM {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatalf("pushtest: key: %v", err)
	}
	f := &FCM{
		key: key, faults: newFaults(), sent: newInbox[Sent](), lifetime: time.Hour, now: time.Now,
		issued: map[string]bool{}, unregistered: map[string]bool{}, invalid: map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("POST /v1/projects/{project}/messages:send", f.send)
	f.srv = httptest.NewServer(mux)
	f.creds, err = ServiceAccount(key, f.TokenURL())
	if err != nil {
		tb.Fatalf("pushtest: %v", err)
	}
	tb.Cleanup(f.Close)
	return f
}

// ServiceAccount returns a service-account key file (JSON) for key, whose
// token_uri is tokenURL.
func ServiceAccount(key *rsa.PrivateKey, tokenURL string) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pushtest: service account: %w", err)
	}
	return json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     Project,
		"private_key_id": "fake-key-1",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   ClientEmail,
		"client_id":      "100000000000000000001",
		"token_uri":      tokenURL,
	})
}

// URL is the base URL of the send API (push.FCMConfig.BaseURL).
func (f *FCM) URL() string { return f.srv.URL }

// TokenURL is the token endpoint (the credentials' token_uri).
func (f *FCM) TokenURL() string { return f.srv.URL + "/token" }

// Credentials is the service-account key file to configure push.FCM with.
func (f *FCM) Credentials() []byte { return f.creds }

// Close releases hung requests and shuts the fake down.
func (f *FCM) Close() {
	f.faults.mu.Lock()
	select {
	case <-f.faults.released:
	default:
		close(f.faults.released)
	}
	f.faults.mu.Unlock()
	f.srv.Close()
}

// SetClock sets the clock the token endpoint judges assertions by (default
// time.Now), for tests that move the sender's clock.
func (f *FCM) SetClock(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}

// SetTokenLifetime sets the expires_in of the access tokens issued from now.
func (f *FCM) SetTokenLifetime(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lifetime = d
}

// RevokeTokens makes every access token issued so far invalid (401).
func (f *FCM) RevokeTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.issued = map[string]bool{}
}

// TokenRequests counts the token endpoint's requests.
func (f *FCM) TokenRequests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenRequests
}

// SendRequests counts the send API's requests, whatever came of them.
func (f *FCM) SendRequests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sendRequests
}

// Unregister makes later sends to token fail with 404 UNREGISTERED (the
// app was uninstalled).
func (f *FCM) Unregister(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unregistered[token] = true
}

// Invalidate makes later sends to token fail with 400 INVALID_ARGUMENT for
// message.token (not a token FCM ever issued).
func (f *FCM) Invalidate(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.invalid[token] = true
}

// Fail makes the next n send requests fail with x.
func (f *FCM) Fail(n int, x Fault) { f.faults.add(n, x) }

// FailAll makes every send request fail with x (nil: none).
func (f *FCM) FailAll(x *Fault) { f.faults.setAlways(x) }

// Sent returns every accepted message, in order.
func (f *FCM) Sent() []Sent { return f.sent.list() }

// Next waits for the next message accepted for token.
func (f *FCM) Next(ctx context.Context, token string) (Sent, error) { return f.sent.next(ctx, token) }

func (f *FCM) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.tokenRequests++
	lifetime, clock, serial := f.lifetime, f.now, f.tokenRequests
	f.mu.Unlock()
	refuse := func(desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": desc})
	}
	if err := r.ParseForm(); err != nil {
		refuse("unreadable form")
		return
	}
	if r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		refuse("unsupported grant_type")
		return
	}
	claims, err := push.VerifyJWT(r.PostForm.Get("assertion"), &f.key.PublicKey)
	if err != nil {
		refuse("Invalid JWT Signature.")
		return
	}
	now := float64(clock().Unix())
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	switch {
	case claims["iss"] != ClientEmail:
		refuse("Invalid issuer")
	case claims["aud"] != f.TokenURL():
		refuse("Invalid audience")
	case !strings.Contains(fmt.Sprint(claims["scope"]), push.MessagingScope):
		refuse("Invalid scope")
	case exp <= iat || exp-iat > 3600 || exp < now || iat > now+300:
		refuse("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
	default:
		tok := fmt.Sprintf("ya29.fake-access-token-%d", serial)
		f.mu.Lock()
		f.issued[tok] = true
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": tok, "expires_in": int(lifetime / time.Second), "token_type": "Bearer",
		})
	}
}

func (f *FCM) send(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.sendRequests++
	authorized := f.issued[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	f.mu.Unlock()
	if !authorized {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`)
		return
	}
	if x, ok := f.faults.next(); ok {
		f.faults.serve(r.Context(), w, x)
		return
	}
	if r.PathValue("project") != Project {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, fcmErrorBody(404, "NOT_FOUND", "SENDER_ID_MISMATCH", ""))
		return
	}
	var req struct {
		Message Sent `json:"message"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Message.Token == "" {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, fcmErrorBody(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "message"))
		return
	}
	tok := req.Message.Token
	f.mu.Lock()
	unregistered, invalid := f.unregistered[tok], f.invalid[tok]
	f.mu.Unlock()
	switch {
	case unregistered:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, fcmErrorBody(404, "NOT_FOUND", "UNREGISTERED", ""))
		return
	case invalid:
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, fcmErrorBody(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "message.token"))
		return
	}
	f.sent.add(tok, req.Message)
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"name":"projects/%s/messages/%d"}`, Project, time.Now().UnixNano())
}
