package sendgridtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"
)

// The Signed Event Webhook's headers.
const (
	SignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
	TimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// Signer signs Event Webhook requests as SendGrid does: with an ECDSA P-256
// key, over the timestamp header's text followed by the raw body, hashed
// with SHA-256; the signature is base64 of its ASN.1 DER encoding.
type Signer struct {
	key    *ecdsa.PrivateKey
	public string
}

// NewSigner returns a Signer with a fresh key pair.
func NewSigner() (*Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sendgridtest: signer: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("sendgridtest: signer: %w", err)
	}
	return &Signer{key: key, public: base64.StdEncoding.EncodeToString(der)}, nil
}

// PublicKey is the verification key as SendGrid shows it in its settings:
// base64 of the DER-encoded (PKIX) public key.
func (s *Signer) PublicKey() string { return s.public }

// Sign returns the signature header's value for body sent with the
// timestamp header's value timestamp.
func (s *Signer) Sign(timestamp string, body []byte) string {
	d := sha256.New()
	d.Write([]byte(timestamp))
	d.Write(body)
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, d.Sum(nil))
	if err != nil {
		// Signing fails only when randomness does, which since Go 1.24
		// ends the program inside crypto/rand before it gets here.
		panic("sendgridtest: sign: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// Header returns the headers SendGrid sends with body, signed at at.
func (s *Signer) Header(body []byte, at time.Time) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "SendGrid Event API")
	h.Set(TimestampHeader, ts)
	h.Set(SignatureHeader, s.Sign(ts, body))
	return h
}

// Request returns a signed server-side request for calling a handler's
// ServeHTTP directly (as httptest.NewRequest does): a POST of body to
// target, signed at at.
func (s *Signer) Request(target string, body []byte, at time.Time) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	for k, v := range s.Header(body, at) {
		r.Header[k] = v
	}
	return r
}

// Post posts body to target with client (http.DefaultClient when nil),
// signed at at, as SendGrid does.
func (s *Signer) Post(ctx context.Context, client *http.Client, target string, body []byte, at time.Time) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("sendgridtest: post: %w", err)
	}
	for k, v := range s.Header(body, at) {
		req.Header[k] = v
	}
	if client == nil {
		client = http.DefaultClient
	}
	return client.Do(req)
}
