package push

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// FCM authenticates with a Google service account: it signs a JWT with the
// account's private key (RS256), trades it at the token endpoint for an
// OAuth access token (the JWT bearer grant, RFC 7523), and uses that token
// until shortly before it expires.

// MessagingScope is the OAuth scope FCM's send API needs.
const MessagingScope = "https://www.googleapis.com/auth/firebase.messaging"

// DefaultTokenURL is Google's OAuth token endpoint.
const DefaultTokenURL = "https://oauth2.googleapis.com/token"

// jwtBearerGrant is the grant type of RFC 7523.
const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// tokenMargin is how long before its expiry a cached token is renewed.
const tokenMargin = 5 * time.Minute

// serviceAccount is the part of a service-account key file FCM needs.
type serviceAccount struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

func parseServiceAccount(b []byte) (serviceAccount, *rsa.PrivateKey, error) {
	var sa serviceAccount
	if err := json.Unmarshal(b, &sa); err != nil {
		return sa, nil, conversations.Invalid("credentials", "not a service-account JSON key: "+err.Error())
	}
	switch {
	case sa.Type != "service_account":
		return sa, nil, conversations.Invalid("credentials.type", "want service_account, got "+sa.Type)
	case sa.ClientEmail == "":
		return sa, nil, conversations.Invalid("credentials.client_email", "empty")
	}
	block, _ := pem.Decode([]byte(sa.PrivateKey))
	if block == nil {
		return sa, nil, conversations.Invalid("credentials.private_key", "no PEM block")
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return sa, nil, conversations.Invalid("credentials.private_key", "not an RSA key")
		}
		key = rk
	} else if rk, err2 := x509.ParsePKCS1PrivateKey(block.Bytes); err2 == nil {
		key = rk
	} else {
		return sa, nil, conversations.Invalid("credentials.private_key", "unreadable: "+err.Error())
	}
	return sa, key, nil
}

// tokenSource hands out access tokens, fetching one when there is none or
// it is about to expire; concurrent callers share one fetch.
type tokenSource struct {
	sa       serviceAccount
	key      *rsa.PrivateKey
	tokenURL string
	o        *options

	mu       sync.Mutex
	token    string
	expiry   time.Time
	inflight chan struct{} // non-nil while a fetch runs
}

func (ts *tokenSource) get(ctx context.Context) (string, error) {
	for {
		ts.mu.Lock()
		if ts.token != "" && ts.o.now().Before(ts.expiry) {
			tok := ts.token
			ts.mu.Unlock()
			return tok, nil
		}
		if ts.inflight == nil {
			done := make(chan struct{})
			ts.inflight = done
			ts.mu.Unlock()
			tok, expiry, err := ts.fetch(ctx)
			ts.mu.Lock()
			ts.inflight = nil
			if err == nil {
				ts.token, ts.expiry = tok, expiry
			}
			ts.mu.Unlock()
			close(done)
			return tok, err
		}
		wait := ts.inflight
		ts.mu.Unlock()
		select {
		case <-wait: // the fetch ended; if it failed, try ourselves
		case <-ctx.Done():
			return "", fmt.Errorf("push: fcm: token: %w", ctx.Err())
		}
	}
}

// invalidate drops tok from the cache (the API refused it).
func (ts *tokenSource) invalidate(tok string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.token == tok {
		ts.token = ""
	}
}

// fetch trades a fresh signed assertion for an access token.
func (ts *tokenSource) fetch(ctx context.Context) (string, time.Time, error) {
	now := ts.o.now()
	assertion, err := signJWT(ts.key, ts.sa.PrivateKeyID, map[string]any{
		"iss":   ts.sa.ClientEmail,
		"scope": MessagingScope,
		"aud":   ts.tokenURL,
		"iat":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("push: fcm: token: sign: %w", err)
	}
	form := url.Values{"grant_type": {jwtBearerGrant}, "assertion": {assertion}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.tokenURL, strings.NewReader(form))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("push: fcm: token: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := ts.o.http.Do(req)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("push: fcm: token: %w", &conversations.ProviderError{
			Provider: "fcm", Op: "token", Class: conversations.Retryable, Err: err})
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("push: fcm: token: %w", &conversations.ProviderError{
			Provider: "fcm", Op: "token", Class: conversations.Retryable, HTTPStatus: resp.StatusCode, Err: err})
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &tr) // an unreadable body is judged by the status below
	if resp.StatusCode != http.StatusOK || tr.AccessToken == "" {
		class := conversations.Permanent // a bad key or a revoked account: no retry helps
		if retryable(resp.StatusCode) {
			class = conversations.Retryable
		}
		return "", time.Time{}, fmt.Errorf("push: fcm: token: %w", &conversations.ProviderError{
			Provider: "fcm", Op: "token", Class: class, Code: tr.Error, HTTPStatus: resp.StatusCode,
			RetryAfter: retryAfter(resp.Header, now), Reason: tr.Description})
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	if life <= 0 {
		life = time.Hour
	}
	// Renew well before expiry; a short-lived token is renewed at half its life.
	return tr.AccessToken, now.Add(max(life-tokenMargin, life/2)), nil
}

// signJWT returns an RS256-signed JWT of claims.
func signJWT(key *rsa.PrivateKey, keyID string, claims map[string]any) (string, error) {
	header := map[string]string{"alg": "RS256", "typ": "JWT"}
	if keyID != "" {
		header["kid"] = keyID
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// VerifyJWT checks an RS256 JWT's signature with pub and returns its
// claims. It is what a token endpoint does with FCM's assertion; fakes of
// one (pushtest) use it.
func VerifyJWT(token string, pub *rsa.PublicKey) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("push: jwt: not three parts")
	}
	enc := base64.RawURLEncoding
	hb, err := enc.DecodeString(parts[0])
	if err != nil {
		return nil, fmt.Errorf("push: jwt: header: %w", err)
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(hb, &header); err != nil || header.Alg != "RS256" {
		return nil, errors.New("push: jwt: not RS256")
	}
	sig, err := enc.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("push: jwt: signature: %w", err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return nil, fmt.Errorf("push: jwt: %w", err)
	}
	cb, err := enc.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("push: jwt: claims: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(cb, &claims); err != nil {
		return nil, fmt.Errorf("push: jwt: claims: %w", err)
	}
	return claims, nil
}
