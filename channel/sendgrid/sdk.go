package sendgrid

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	"github.com/sendgrid/rest"
	sendgridsdk "github.com/sendgrid/sendgrid-go"
	"github.com/sendgrid/sendgrid-go/helpers/mail"
)

// mailSendPath is the v3 Mail Send endpoint.
const mailSendPath = "/v3/mail/send"

// maxResponseBytes bounds how much of an answer is read. Mail Send answers
// 202 with no body, and its errors are a few hundred bytes of JSON; the
// SDK reads whatever comes, so a misbehaving proxy's page is cut here.
const maxResponseBytes = 64 << 10

// api is the part of SendGrid's v3 API the Channel uses. The SDK-backed
// implementation binds each call to ctx; tests substitute one that fails on
// demand without a network.
type api interface {
	// sendMail posts m to Mail Send. A non-nil response means SendGrid
	// answered, with any status: Mail Send reports refusals as a status and
	// a JSON body, never as an error. An error means no answer was read;
	// it is a *callError saying whether the request had been written.
	sendMail(ctx context.Context, m *mail.SGMailV3) (*rest.Response, error)
}

// callError is a call that got no answer, with what the transport saw of
// it: whether the request was written in full (so SendGrid may have it).
type callError struct {
	err  error
	sent bool
}

func (e *callError) Error() string { return e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

// sdkAPI calls SendGrid through sendgrid-go.
//
// It builds a fresh rest.Request per call with sendgrid.GetRequest:
// sendgrid.Client embeds one request and overwrites its Body on every
// Send, so a Client shared by concurrent sends would mix their bodies. It
// sends with a rest.Client of its own rather than
// sendgrid.MakeRequestWithContext, which goes through the process-wide
// rest.DefaultClient: the injected http.Client (transport, timeout) must
// apply, and nothing global may be touched. rest.Client.SendWithContext
// binds the request to ctx, so cancellation and deadlines are real.
type sdkAPI struct {
	apiKey string
	base   string // scheme, host and any path prefix, no trailing slash
	client *rest.Client
}

func newSDKAPI(apiKey, base string, injected *http.Client) *sdkAPI {
	next, timeout := http.RoundTripper(nil), time.Duration(0)
	if injected != nil {
		next, timeout = injected.Transport, injected.Timeout
	}
	if next == nil {
		next = newTransport()
	}
	hc := &http.Client{
		Transport: limitBodies{next: next},
		Timeout:   timeout,
		// A redirect is an answer (classified as a refusal), not something
		// to follow with the API key.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &sdkAPI{apiKey: apiKey, base: base, client: &rest.Client{HTTPClient: hc}}
}

func (a *sdkAPI) sendMail(ctx context.Context, m *mail.SGMailV3) (*rest.Response, error) {
	// mail.GetRequestBody is json.Marshal that logs a failure to the
	// standard logger and sends an empty body; marshal here to see it.
	body, err := json.Marshal(m)
	if err != nil {
		return nil, &callError{err: err}
	}
	req := sendgridsdk.GetRequest(a.apiKey, mailSendPath, a.base)
	req.Method = rest.Post
	req.Body = body

	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(true)
			}
		},
	})
	resp, err := a.client.SendWithContext(ctx, req)
	if resp != nil {
		// SendGrid answered. Its status decides even when the body could
		// not be read in full (rest.BuildResponse returns both): an
		// acceptance has no body, and a refusal is a refusal.
		return resp, nil
	}
	if err == nil {
		err = errors.New("no response")
	}
	return nil, &callError{err: err, sent: wrote.Load()}
}

// newTransport returns a connection pool of the Channel's own, so nothing is
// shared with (or changed in) http.DefaultTransport. It ignores HTTPS_PROXY
// and friends, as library code reads no environment: a host behind a proxy
// passes WithHTTPClient.
func newTransport() http.RoundTripper {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return &http.Transport{ForceAttemptHTTP2: true, TLSHandshakeTimeout: 10 * time.Second}
	}
	t = t.Clone()
	t.Proxy = nil
	return t
}

// limitBodies caps every response body at maxResponseBytes.
type limitBodies struct{ next http.RoundTripper }

func (l limitBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if resp != nil && resp.Body != nil {
		resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, maxResponseBytes), Closer: resp.Body}
	}
	return resp, err
}

type limitedBody struct {
	io.Reader
	io.Closer
}
