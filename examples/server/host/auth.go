package host

import (
	"context"
	"crypto/sha256"
	"net/http"
	"strings"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Authenticator tells who holds a bearer token. It is the one seam between
// the example and a host's real sign-in: the example provides DemoTokens
// (module WithDemo); a host provides its own session or JWT check as an
// Authenticator instead, and every API route and the event stream use it.
//
// Viewer returns an error wrapping ErrUnauthenticated for a token it does
// not accept. It is called once per request, concurrently.
type Authenticator interface {
	Viewer(ctx context.Context, token string) (conversations.Viewer, error)
}

// ErrUnauthenticated is what an Authenticator returns for a token it does
// not accept; the API answers it with 401.
var ErrUnauthenticated = errUnauthenticated

// viewerOf authenticates r's bearer token with a.
func viewerOf(a Authenticator, r *http.Request) (conversations.Viewer, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return conversations.Viewer{}, errUnauthenticated
	}
	v, err := a.Viewer(r.Context(), strings.TrimSpace(token))
	if err != nil {
		return conversations.Viewer{}, err
	}
	if err := v.Validate(); err != nil {
		return conversations.Viewer{}, errUnauthenticated
	}
	return v, nil
}

// Tokens is a fixed table of bearer tokens, the demo's Authenticator. It
// keeps the tokens' SHA-256, so a lookup's timing says nothing about the
// tokens it holds. Safe for concurrent use once built.
type Tokens struct {
	byHash map[[sha256.Size]byte]conversations.Viewer
}

// NewTokens returns a table holding tokens.
func NewTokens(tokens map[string]conversations.Viewer) *Tokens {
	t := &Tokens{byHash: make(map[[sha256.Size]byte]conversations.Viewer, len(tokens))}
	for tok, v := range tokens {
		t.byHash[sha256.Sum256([]byte(tok))] = v
	}
	return t
}

// Viewer returns the token's viewer, or ErrUnauthenticated.
func (t *Tokens) Viewer(_ context.Context, token string) (conversations.Viewer, error) {
	v, ok := t.byHash[sha256.Sum256([]byte(token))]
	if !ok {
		return conversations.Viewer{}, errUnauthenticated
	}
	return v, nil
}
