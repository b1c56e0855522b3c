package host_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/fieldtalk/fieldtalk/examples/server/host"
)

// The contract: every request the end-to-end tests make, and every answer
// they get, is checked against the server's OpenAPI document
// (host.OpenAPI, served at /openapi.json) by kin-openapi:
//
//   - a request the document accepts must get an answer the document lists
//     for it (a status the operation declares, a body its schema accepts);
//   - a request the document refuses (an unknown route, a missing field, a
//     missing credential, bad JSON) must be refused: a 4xx, and on the JSON
//     routes the Error object;
//   - each event of the event stream must match the schema of its type.
//
// A mismatch fails the test that made the request, so the document cannot
// drift from the code.

var (
	contractOnce sync.Once
	contractDoc  *openapi3.T
	contractRtr  routers.Router
	contractErr  error
)

// loadContract parses and validates the document once per test binary.
func loadContract(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	contractOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(host.OpenAPI())
		if err != nil {
			contractErr = fmt.Errorf("load: %w", err)
			return
		}
		// Routes are matched by path alone: the tests' servers listen on
		// random loopback ports, and the Twilio client signs for a public URL.
		doc.Servers = nil
		rtr, err := legacy.NewRouter(doc)
		if err != nil {
			contractErr = fmt.Errorf("router: %w", err)
			return
		}
		contractDoc, contractRtr = doc, rtr
	})
	if contractErr != nil {
		t.Fatalf("openapi.json: %v", contractErr)
	}
	return contractDoc, contractRtr
}

// contract is an http.RoundTripper that checks each exchange against the
// document and reports a mismatch on t.
type contract struct {
	t    testing.TB
	doc  *openapi3.T
	rtr  routers.Router
	next http.RoundTripper
}

func newContract(t testing.TB) *contract {
	doc, rtr := loadContract(t)
	return &contract{t: t, doc: doc, rtr: rtr, next: http.DefaultTransport}
}

// client returns an HTTP client whose every exchange is checked.
func (c *contract) client() *http.Client { return &http.Client{Transport: c} }

func (c *contract) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	what := req.Method + " " + req.URL.RequestURI()
	reqErr, in := c.checkRequest(req, body)
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if reqErr != nil {
		c.checkRefusal(what, reqErr, resp)
		return resp, nil
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if ct == "text/event-stream" {
		// Endless: the status and media type are checked here, each event
		// as the test reads it (checkEvent).
		c.checkStatic(what, in, resp)
		return resp, nil
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	if ct != "application/json" {
		// TwiML, plain-text refusals and the metrics exposition are
		// strings: their media type is checked, their text is not JSON.
		opts.ExcludeResponseBody = true
		c.checkStatic(what, in, resp)
	}
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(respBody)), Options: opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), rin); err != nil {
		c.t.Errorf("contract: %s answered %d, which the document does not allow: %v\nbody: %s", what, resp.StatusCode, err, clip(respBody))
	}
	return resp, nil
}

// checkRequest finds req's operation and validates req against it. A nil
// error means the document accepts the request.
func (c *contract) checkRequest(req *http.Request, body []byte) (error, *openapi3filter.RequestValidationInput) {
	route, params, err := c.rtr.FindRoute(req)
	if err != nil {
		return fmt.Errorf("no such operation: %w", err), nil
	}
	clone := req.Clone(context.Background())
	clone.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{
		Request: clone, PathParams: params, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: presentCredentials},
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		return err, nil
	}
	in.Request = req
	return nil, in
}

// presentCredentials accepts a request that carries what its security
// scheme names; whether the credential is good is the server's to say.
func presentCredentials(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header
	switch s := in.SecurityScheme; s.Type {
	case "http":
		if scheme, tok, ok := strings.Cut(h.Get("Authorization"), " "); !ok || !strings.EqualFold(scheme, s.Scheme) || tok == "" {
			return fmt.Errorf("no %s credentials", s.Scheme)
		}
	case "apiKey":
		if h.Get(s.Name) == "" {
			return fmt.Errorf("no %s header", s.Name)
		}
	}
	return nil
}

// checkRefusal checks the answer to a request the document refuses.
func (c *contract) checkRefusal(what string, reqErr error, resp *http.Response) {
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		c.t.Errorf("contract: the document refuses %s (%v), but the server answered %d: either the server accepts what the contract does not describe, or the document is wrong", what, reqErr, resp.StatusCode)
		return
	}
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct != "application/json" || strings.HasPrefix(what, "POST /webhooks/twilio/") || strings.HasPrefix(what, "POST /webhooks/sendgrid/") {
		return // the providers' webhooks answer their providers in plain text
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if err == nil {
		err = c.matches("Error", b)
	}
	if err != nil {
		c.t.Errorf("contract: %s answered %d without the Error object: %v\nbody: %s", what, resp.StatusCode, err, clip(b))
	}
}

// checkStatic checks that the operation declares resp's status with resp's
// media type.
func (c *contract) checkStatic(what string, in *openapi3filter.RequestValidationInput, resp *http.Response) {
	r := in.Route.Operation.Responses.Status(resp.StatusCode)
	if r == nil || r.Value == nil {
		c.t.Errorf("contract: %s answered %d, a status the document does not list", what, resp.StatusCode)
		return
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if len(r.Value.Content) > 0 && r.Value.Content.Get(ct) == nil {
		c.t.Errorf("contract: %s answered %d as %q, which the document does not list", what, resp.StatusCode, ct)
	}
}

// matches validates a JSON document against a schema of the components.
func (c *contract) matches(schema string, b []byte) error {
	s := c.doc.Components.Schemas[schema]
	if s == nil || s.Value == nil {
		return fmt.Errorf("no schema %q", schema)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return s.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors())
}

// checkEvent validates one event of the stream against the schema the
// document names for its type (x-fieldtalk-events).
func (c *contract) checkEvent(ev sseEvent) {
	op := c.doc.Paths.Value("/v1/stream").Get
	events, _ := op.Responses.Status(http.StatusOK).Value.Content.Get("text/event-stream").Extensions["x-fieldtalk-events"].(map[string]any)
	ref, _ := events[ev.Event].(map[string]any)
	name, _ := ref["$ref"].(string)
	if name == "" {
		c.t.Errorf("contract: the stream sent an event of type %q, which the document does not list", ev.Event)
		return
	}
	if err := c.matches(strings.TrimPrefix(name, "#/components/schemas/"), []byte(ev.Data)); err != nil {
		c.t.Errorf("contract: stream event %q does not match its schema: %v\ndata: %s", ev.Event, err, ev.Data)
	}
	if ev.Event != "ready" && ev.Event != "resync" {
		var p struct {
			ID string `json:"id"`
		}
		if json.Unmarshal([]byte(ev.Data), &p) == nil && p.ID != ev.ID {
			c.t.Errorf("contract: stream event id %q differs from its data's id %q", ev.ID, p.ID)
		}
	}
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// openAPIPath writes a ServeMux pattern's path as OpenAPI does: "/{$}"
// (exactly the root) is "/", and a subtree ("/app/") is one path parameter
// under it ("/app/{path}").
func openAPIPath(pattern string) string {
	switch {
	case pattern == "/{$}":
		return "/"
	case strings.HasSuffix(pattern, "/") && pattern != "/":
		return pattern + "{path}"
	}
	return pattern
}

// TestContractCoversEveryRoute checks the document against the routes the
// server really serves, in both configurations (the embedded default, with
// the console's /dev/sms; production, with the providers' webhooks):
// every route is documented, and every documented operation is served.
func TestContractCoversEveryRoute(t *testing.T) {
	doc, _ := loadContract(t)
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	served := map[string]bool{}
	for _, r := range []*running{start(t, host.Config{Database: "sqlite:" + t.TempDir() + "/a.db"}), startProduction(t, database{dsn: "sqlite:" + t.TempDir() + "/b.db"}).running} {
		for _, p := range r.srv.Patterns() {
			if p == "/" {
				continue // the catch-all that answers 404
			}
			method, path, _ := strings.Cut(p, " ")
			path = openAPIPath(path)
			served[method+" "+path] = true
			if !documented[method+" "+path] {
				t.Errorf("the server serves %q, which openapi.json does not document", p)
			}
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("openapi.json documents %q, which the server does not serve", op)
		}
	}
	// The document is what the server serves.
	r := start(t, host.Config{Database: "sqlite:" + t.TempDir() + "/c.db"})
	got := r.call(t, "GET", host.OpenAPIPath, "", nil, http.StatusOK)
	if !bytes.Equal(got, host.OpenAPI()) {
		t.Errorf("GET %s is not the embedded document", host.OpenAPIPath)
	}
}

// TestContractRefusesDrift shows that the checks can fail: answers that
// stray from the document are reported.
func TestContractRefusesDrift(t *testing.T) {
	doc, rtr := loadContract(t)
	for _, tc := range []struct {
		name   string
		method string
		path   string
		status int
		ctype  string
		body   string
	}{
		{"an undeclared field", "GET", "/v1/badge", 200, "application/json", `{"badge":1,"extra":true}`},
		{"a wrong type", "GET", "/v1/badge", 200, "application/json", `{"badge":"one"}`},
		{"an undeclared status", "GET", "/v1/badge", 418, "application/json", `{"error":{"code":"teapot","message":"no"}}`},
		{"an error without its shape", "GET", "/v1/badge", 404, "application/json", `{"oops":1}`},
		{"a status outside the enum", "GET", "/v1/threads/x", 200, "application/json",
			`{"id":"x","kind":"group","created_at":"2026-11-27T07:14:20Z","last_message_at":"2026-11-27T07:14:20Z","last_seq":0,"preview":"","unread":0}`},
		{"success for a request the contract refuses", "GET", "/v1/nowhere", 200, "application/json", `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recordingT{TB: t}
			c := &contract{t: rec, doc: doc, rtr: rtr, next: canned{tc.status, tc.ctype, tc.body}}
			req, _ := http.NewRequest(tc.method, "http://127.0.0.1:1"+tc.path, nil)
			req.Header.Set("Authorization", "Bearer x")
			resp, err := c.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if len(rec.errors) == 0 {
				t.Errorf("%s %s answering %d %s passed the contract", tc.method, tc.path, tc.status, tc.body)
			}
		})
	}
}

// recordingT collects the errors a contract reports instead of failing.
type recordingT struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordingT) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// canned answers every request with one response.
type canned struct {
	status      int
	ctype, body string
}

func (c canned) RoundTrip(req *http.Request) (*http.Response, error) {
	h := http.Header{}
	h.Set("Content-Type", c.ctype)
	h.Set("Content-Length", strconv.Itoa(len(c.body)))
	return &http.Response{StatusCode: c.status, Header: h, Body: io.NopCloser(strings.NewReader(c.body)), Request: req}, nil
}
