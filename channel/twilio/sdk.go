package twilio

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// api is the part of Twilio's REST API the Channel uses. The SDK-backed
// implementation binds each call to ctx; tests substitute one that fails on
// demand without a network.
type api interface {
	createMessage(ctx context.Context, p *openapi.CreateMessageParams) (*openapi.ApiV2010Message, error)
	fetchMessage(ctx context.Context, sid string) (*openapi.ApiV2010Message, error)
	pageMessages(ctx context.Context, p *openapi.ListMessageParams, pageToken, page string) (*openapi.ListMessageResponse, error)
}

// callError is a failed call with what the transport saw of it, which the
// SDK's own errors drop (the status of an undecodable body, Retry-After,
// whether the request had left).
type callError struct {
	err    error
	status int         // the HTTP status read; 0 when no response was read
	header http.Header // that response's header
	sent   bool        // the request was written in full
}

func (e *callError) Error() string { return e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

// sdkAPI calls Twilio through twilio-go. The SDK builds its requests with
// context.Background and keeps no per-call state we can reach, so every
// call gets its own SDK client whose transport carries the call's context
// and records what happened on the wire. Building one is a few small
// allocations; the connection pool (next) is shared.
type sdkAPI struct {
	accountSID string
	username   string
	password   string
	base       *url.URL
	next       http.RoundTripper
	timeout    time.Duration // the injected http.Client's Timeout, if any
}

func (a *sdkAPI) createMessage(ctx context.Context, p *openapi.CreateMessageParams) (*openapi.ApiV2010Message, error) {
	var m *openapi.ApiV2010Message
	err := a.call(ctx, func(s *openapi.ApiService) (err error) {
		m, err = s.CreateMessage(p)
		return err
	})
	return m, err
}

func (a *sdkAPI) fetchMessage(ctx context.Context, sid string) (*openapi.ApiV2010Message, error) {
	var m *openapi.ApiV2010Message
	err := a.call(ctx, func(s *openapi.ApiService) (err error) {
		m, err = s.FetchMessage(sid, nil)
		return err
	})
	return m, err
}

func (a *sdkAPI) pageMessages(ctx context.Context, p *openapi.ListMessageParams, pageToken, page string) (*openapi.ListMessageResponse, error) {
	var r *openapi.ListMessageResponse
	err := a.call(ctx, func(s *openapi.ApiService) (err error) {
		r, err = s.PageMessage(p, pageToken, page)
		return err
	})
	return r, err
}

func (a *sdkAPI) call(ctx context.Context, fn func(*openapi.ApiService) error) error {
	t := &callTransport{ctx: ctx, base: a.base, next: a.next}
	c := &client.Client{
		Credentials: client.NewCredentials(a.username, a.password),
		HTTPClient: &http.Client{
			Transport: t,
			Timeout:   a.timeout,
			// As the SDK's default client: a redirect is an answer, not
			// something to follow with our credentials.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		UserAgentExtensions: []string{"fieldtalk"},
	}
	c.SetAccountSid(a.accountSID)
	// Built by hand rather than with client.NewRequestHandler, which reads
	// TWILIO_EDGE and TWILIO_REGION from the environment; WithBaseURL is how
	// an edge is chosen here.
	err := fn(openapi.NewApiService(&client.RequestHandler{Client: c}))
	// The SDK does not close the body of an error response.
	t.closeBodies()
	if err != nil {
		return t.wrap(err)
	}
	return nil
}

// callTransport is one call's transport: it binds requests to the call's
// context, points them at the base URL, and records the outcome.
type callTransport struct {
	ctx  context.Context
	base *url.URL
	next http.RoundTripper

	sent   atomic.Bool
	mu     sync.Mutex
	status int
	header http.Header
	bodies []io.Closer
}

func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := httptrace.WithClientTrace(t.ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				t.sent.Store(true)
			}
		},
	})
	r := req.Clone(ctx)
	// The SDK builds https://api.twilio.com/...; the base URL decides
	// where requests really go.
	r.URL.Scheme, r.URL.Host = t.base.Scheme, t.base.Host
	if prefix := strings.TrimSuffix(t.base.Path, "/"); prefix != "" {
		r.URL.Path, r.URL.RawPath = prefix+r.URL.Path, ""
	}
	r.Host = ""
	resp, err := t.next.RoundTrip(r)
	if resp != nil {
		t.mu.Lock()
		t.status, t.header = resp.StatusCode, resp.Header.Clone()
		t.bodies = append(t.bodies, resp.Body)
		t.mu.Unlock()
	}
	return resp, err
}

func (t *callTransport) closeBodies() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, b := range t.bodies {
		_ = b.Close()
	}
	t.bodies = nil
}

func (t *callTransport) wrap(err error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return &callError{err: err, status: t.status, header: t.header, sent: t.sent.Load() || t.status != 0}
}
