package sendgridtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// APIKey is the key the Server accepts unless told otherwise. It has the
// shape of a real one ("SG.", a key id, ".", a secret).
const APIKey = "SG.ZmllbGR0YWxrLXRlc3Q.0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"

// MailSendPath is the endpoint the Server serves.
const MailSendPath = "/v3/mail/send"

// maxRequestBytes is SendGrid's limit on a Mail Send request (30 MB,
// attachments included).
const maxRequestBytes = 30 << 20

// Server is a fake SendGrid v3 Mail Send API on an httptest server. It is
// safe for concurrent use.
type Server struct {
	srv     *httptest.Server
	key     string
	closing chan struct{}
	once    sync.Once

	mu       sync.Mutex
	now      func() time.Time
	sends    []Send
	requests int
	faults   []Fault
}

// Send is one email the Server accepted.
type Send struct {
	MessageID string    // the X-Message-Id it answered with
	At        time.Time // when it accepted the email (the answer's Date)
	Body      []byte    // the request body as received
	Mail      Mail      // Body, decoded
}

// Mail is the part of a Mail Send request body a messaging app uses.
type Mail struct {
	From             Address           `json:"from"`
	ReplyTo          *Address          `json:"reply_to,omitempty"`
	Subject          string            `json:"subject,omitempty"`
	Personalizations []Personalization `json:"personalizations"`
	Content          []Content         `json:"content"`
	CustomArgs       map[string]string `json:"custom_args,omitempty"`
	Headers          map[string]string `json:"headers,omitempty"`
	Categories       []string          `json:"categories,omitempty"`
}

// Address is an email address with an optional display name.
type Address struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

// Personalization is one envelope of a Mail Send request.
type Personalization struct {
	To         []Address         `json:"to"`
	CC         []Address         `json:"cc,omitempty"`
	BCC        []Address         `json:"bcc,omitempty"`
	Subject    string            `json:"subject,omitempty"`
	CustomArgs map[string]string `json:"custom_args,omitempty"`
}

// Content is one body part.
type Content struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Part returns the value of the first content of type typ ("text/plain",
// "text/html"), or "".
func (m Mail) Part(typ string) string {
	for _, c := range m.Content {
		if c.Type == typ {
			return c.Value
		}
	}
	return ""
}

// NewServer starts a Server and closes it when tb's test ends. tb may be
// nil (in an Example, say); then call Close.
func NewServer(tb testing.TB) *Server {
	s := &Server{key: APIKey, closing: make(chan struct{}), now: time.Now}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	if tb != nil {
		tb.Cleanup(s.Close)
	}
	return s
}

// URL is the base URL to point a client at (in place of
// https://api.sendgrid.com).
func (s *Server) URL() string { return s.srv.URL }

// APIKey is the API key the Server accepts.
func (s *Server) APIKey() string { return s.key }

// SetClock sets the server's clock (default time.Now): the answers' Date
// and the rate-limit reset are read from it.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Close releases hung requests and shuts the server down.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.srv.Close()
	})
}

// Requests counts the requests the server received, whatever came of them.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Sends returns every accepted email, in order. An email whose connection
// was dropped after acceptance (Drop) is here.
func (s *Server) Sends() []Send {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Send, len(s.sends))
	copy(out, s.sends)
	return out
}

// Fault is a way for a request to fail; see Fail.
type Fault struct {
	kind    faultKind
	status  int
	wait    time.Duration
	message string
	field   string
}

type faultKind int

const (
	faultAPIError faultKind = iota + 1
	faultRateLimit
	faultHang
	faultDrop
)

// RateLimit answers 429 as SendGrid does, with X-RateLimit-Limit,
// X-RateLimit-Remaining: 0 and X-RateLimit-Reset, the epoch second the
// limit resets: the answer's Date plus wait (rounded up to a second).
func RateLimit(wait time.Duration) Fault {
	return Fault{kind: faultRateLimit, status: http.StatusTooManyRequests, wait: wait, message: "too many requests"}
}

// ServerError answers 500 with SendGrid's JSON error body.
func ServerError() Fault {
	return Fault{kind: faultAPIError, status: http.StatusInternalServerError, message: "An internal server error occurred."}
}

// APIError answers status with SendGrid's JSON error body:
// {"errors":[{"message":message,"field":field,"help":...}]} (field null
// when empty). For example 400 for an invalid request, 403 with
// MessageUnverifiedSender, 413 with MessageTooLarge.
func APIError(status int, message, field string) Fault {
	return Fault{kind: faultAPIError, status: status, message: message, field: field}
}

// SendGrid's messages for refusals a messaging app meets.
const (
	MessageUnauthorized     = "The provided authorization grant is invalid, expired, or revoked"
	MessageUnverifiedSender = "The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/sender-identity/ to see the Sender Identity requirements"
	MessageTooLarge         = "The JSON payload you have included in your request is too large. Please limit your request to 30MB."
)

// Hang never answers; the request ends when the client gives up or the
// server closes. The email is not accepted.
func Hang() Fault { return Fault{kind: faultHang} }

// Drop accepts the email (it IS in Sends) and then closes the connection
// without answering: the client cannot know SendGrid has it.
func Drop() Fault { return Fault{kind: faultDrop} }

// Fail makes the next n requests fail with f.
func (s *Server) Fail(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	var fault *Fault
	if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		fault = &f
	}
	now := s.now().UTC().Truncate(time.Second)
	s.mu.Unlock()
	w.Header().Set("Date", now.Format(http.TimeFormat))

	if r.Header.Get("Authorization") != "Bearer "+s.key {
		writeError(w, http.StatusUnauthorized, MessageUnauthorized, "")
		return
	}
	if r.URL.Path != MailSendPath {
		writeError(w, http.StatusNotFound, "resource not found", "")
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "method not allowed", "")
		return
	}
	// Read the whole request first: a dropped connection must come after
	// SendGrid has the email.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, MessageTooLarge, "")
		return
	}
	if fault != nil {
		switch fault.kind {
		case faultAPIError:
			writeError(w, fault.status, fault.message, fault.field)
			return
		case faultRateLimit:
			h := w.Header()
			h.Set("X-RateLimit-Limit", "600")
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("X-RateLimit-Reset", strconv.FormatInt(now.Unix()+int64(math.Ceil(fault.wait.Seconds())), 10))
			writeError(w, fault.status, fault.message, "")
			return
		case faultHang:
			select {
			case <-r.Context().Done():
			case <-s.closing:
			}
			return
		}
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type should be application/json.", "")
		return
	}
	var m Mail
	if err := json.Unmarshal(body, &m); err != nil {
		writeError(w, http.StatusBadRequest, "Bad Request", "")
		return
	}
	if msg, field := check(m); msg != "" {
		writeError(w, http.StatusBadRequest, msg, field)
		return
	}

	id := NewMessageID()
	s.mu.Lock()
	s.sends = append(s.sends, Send{MessageID: id, At: now, Body: body, Mail: m})
	s.mu.Unlock()

	if fault != nil && fault.kind == faultDrop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		http.Error(w, "sendgridtest: cannot drop this connection", http.StatusInternalServerError)
		return
	}
	w.Header().Set("X-Message-Id", id)
	w.WriteHeader(http.StatusAccepted)
}

// check refuses what SendGrid refuses, with its messages and fields.
func check(m Mail) (message, field string) {
	if m.From.Email == "" {
		return "The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.", "from.email"
	}
	if !validAddress(m.From.Email) {
		return "The from email does not contain a valid address.", "from.email"
	}
	if len(m.Personalizations) == 0 {
		return "The personalizations field is required and must have at least one personalization.", "personalizations"
	}
	for i, p := range m.Personalizations {
		at := "personalizations." + strconv.Itoa(i)
		if len(p.To) == 0 {
			return "The to array is required for all personalization objects, and must have at least one email object with a valid email address.", at + ".to"
		}
		for j, a := range p.To {
			if !validAddress(a.Email) {
				return "Does not contain a valid address.", at + ".to." + strconv.Itoa(j) + ".email"
			}
		}
		if m.Subject == "" && p.Subject == "" {
			return "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.", "subject"
		}
	}
	if len(m.Content) == 0 {
		return "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block.", "content"
	}
	for i, c := range m.Content {
		if c.Value == "" {
			return "The content value must be a string at least one character in length.", "content." + strconv.Itoa(i) + ".value"
		}
		if c.Type == "text/plain" && i != 0 {
			return "If present, text/plain content must be first, followed by text/html, followed by any other content.", "content." + strconv.Itoa(i) + ".type"
		}
	}
	n := 0
	for k, v := range m.CustomArgs {
		n += len(k) + len(v)
	}
	if n >= 10000 {
		return "The custom_args parameter must be less than 10,000 bytes.", "custom_args"
	}
	return "", ""
}

func validAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

func writeError(w http.ResponseWriter, status int, message, field string) {
	type apiError struct {
		Message string  `json:"message"`
		Field   *string `json:"field"`
		Help    *string `json:"help"`
	}
	e := apiError{Message: message}
	if field != "" {
		help := "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message." + field
		e.Field, e.Help = &field, &help
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []apiError{e}})
}

// NewMessageID returns a random SendGrid-shaped message id: 22 characters
// of URL-safe base64, as X-Message-Id carries.
func NewMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// String describes a send for test failures.
func (s Send) String() string {
	to := ""
	if len(s.Mail.Personalizations) > 0 && len(s.Mail.Personalizations[0].To) > 0 {
		to = s.Mail.Personalizations[0].To[0].Email
	}
	return fmt.Sprintf("%s to %s: %q", s.MessageID, to, s.Mail.Subject)
}
