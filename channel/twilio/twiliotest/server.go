package twiliotest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fieldtalk/fieldtalk/channel"
)

// Credentials the Server accepts unless told otherwise. They have the shape
// of real ones (the SDK refuses credentials that are not alphanumeric).
const (
	AccountSID = "AC00000000000000000000000000000001"
	AuthToken  = "0123456789abcdef0123456789abcdef"
)

// twilioTime is how Twilio writes timestamps (RFC 2822, in GMT).
const twilioTime = time.RFC1123Z

// Server is a fake Twilio REST API on an httptest server. It is safe for
// concurrent use.
type Server struct {
	srv     *httptest.Server
	account string
	token   string
	closing chan struct{}
	once    sync.Once

	mu       sync.Mutex
	now      func() time.Time
	apiKeys  map[string]string
	messages map[string]*Message
	order    []string // sids in creation order
	creates  []Created
	requests int
	faults   []Fault
}

// Message is a message the fake holds.
type Message struct {
	SID                 string
	AccountSID          string
	From                string
	To                  string
	Body                string
	MediaURLs           []string
	MessagingServiceSID string
	StatusCallback      string
	Status              string
	ErrorCode           int
	DateCreated         time.Time
	DateUpdated         time.Time
	DateSent            time.Time // zero until the message is sent
}

// Created is one accepted Messages create request.
type Created struct {
	SID  string
	Form url.Values // the request's form, as Twilio received it
}

// NewServer starts a Server and closes it when tb's test ends. tb may be
// nil (in an Example, say); then call Close.
func NewServer(tb testing.TB) *Server {
	s := &Server{
		account:  AccountSID,
		token:    AuthToken,
		closing:  make(chan struct{}),
		now:      time.Now,
		apiKeys:  map[string]string{},
		messages: map[string]*Message{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	if tb != nil {
		tb.Cleanup(s.Close)
	}
	return s
}

// URL is the base URL to point a client at (in place of https://api.twilio.com).
func (s *Server) URL() string { return s.srv.URL }

// AccountSID is the account the server serves (its URLs carry it, and it
// is the basic-auth user).
func (s *Server) AccountSID() string { return s.account }

// AuthToken is the account's auth token (also the webhook signing key).
func (s *Server) AuthToken() string { return s.token }

// AddAPIKey makes the server also accept the API key sid:secret.
func (s *Server) AddAPIKey(sid, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiKeys[sid] = secret
}

// SetClock sets the server's clock (default time.Now).
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

// Requests counts the API requests the server received, whatever came of them.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Creates returns every accepted create, in order. A create whose
// connection was dropped after acceptance (Drop) is here.
func (s *Server) Creates() []Created {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Created, len(s.creates))
	for i, c := range s.creates {
		out[i] = Created{SID: c.SID, Form: cloneValues(c.Form)}
	}
	return out
}

// Message returns the message with sid.
func (s *Server) Message(sid string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.messages[sid]
	if !ok {
		return Message{}, false
	}
	c := *m
	c.MediaURLs = slices.Clone(m.MediaURLs)
	return c, true
}

// SetStatus moves a message to status (a Twilio status: "sent",
// "delivered", "undelivered", ...) with errorCode (0 for none), as Twilio
// does when the carrier reports. The first status past sending stamps
// DateSent.
func (s *Server) SetStatus(sid, status string, errorCode int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.messages[sid]
	if !ok {
		return fmt.Errorf("twiliotest: no message %s", sid)
	}
	now := s.now().UTC()
	m.Status, m.ErrorCode, m.DateUpdated = status, errorCode, now
	switch status {
	case "sent", "delivered", "undelivered", "failed", "read":
		if m.DateSent.IsZero() {
			m.DateSent = now
		}
	}
	return nil
}

// Fault is a way for a request to fail; see Fail.
type Fault struct {
	kind       faultKind
	retryAfter time.Duration
	code       int
	status     int
	message    string
}

type faultKind int

const (
	faultAPIError faultKind = iota + 1
	faultRateLimit
	faultHTML
	faultHang
	faultDrop
)

// RateLimit answers 429 with Retry-After (whole seconds) and error 20429.
func RateLimit(retryAfter time.Duration) Fault {
	return Fault{kind: faultRateLimit, retryAfter: retryAfter, code: 20429, status: http.StatusTooManyRequests, message: "Too Many Requests"}
}

// ServerError answers 500 with Twilio's JSON error body (code 20500).
func ServerError() Fault {
	return Fault{kind: faultAPIError, code: 20500, status: http.StatusInternalServerError, message: "An internal server error has occurred"}
}

// HTMLUnavailable answers 503 with an HTML page, as an overloaded edge does.
func HTMLUnavailable() Fault { return Fault{kind: faultHTML, status: http.StatusServiceUnavailable} }

// Hang never answers; the request ends when the client gives up or the
// server closes.
func Hang() Fault { return Fault{kind: faultHang} }

// Drop accepts the request (a create IS recorded) and then closes the
// connection without answering: the client cannot know the message exists.
func Drop() Fault { return Fault{kind: faultDrop} }

// APIError answers with Twilio's JSON error body for code (HTTP 400, or
// 404 for 20404, 401 for 20003), with Twilio's message for the codes a
// messaging app meets: 21610 (unsubscribed recipient), 21211 (invalid To),
// 21614 (not a mobile number), 30003, 30005, 30006, 30007 (carrier filtering).
func APIError(code int) Fault {
	status := http.StatusBadRequest
	switch code {
	case 20404:
		status = http.StatusNotFound
	case 20003:
		status = http.StatusUnauthorized
	}
	msg, ok := errorMessages[code]
	if !ok {
		msg = "Error " + strconv.Itoa(code)
	}
	return Fault{kind: faultAPIError, code: code, status: status, message: msg}
}

var errorMessages = map[int]string{
	20003: "Authenticate",
	20404: "The requested resource was not found",
	21211: "Invalid 'To' Phone Number",
	21602: "Message body is required.",
	21603: "A 'From' phone number is required.",
	21604: "A 'To' phone number is required.",
	21610: "Attempt to send to unsubscribed recipient",
	21614: "'To' number is not a valid mobile number",
	21617: "The concatenated message body exceeds the 1600 character limit.",
	21623: "Number of media files exceeds allowed limit",
	30003: "Unreachable destination handset",
	30005: "Unknown destination handset",
	30006: "Landline or unreachable carrier",
	30007: "Message filtered",
}

// Fail makes the next n requests (of any kind) fail with f.
func (s *Server) Fail(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

var (
	messagesPath = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/Messages\.json$`)
	messagePath  = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/Messages/([^/]+)\.json$`)
	e164         = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	var fault *Fault
	if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		fault = &f
	}
	s.mu.Unlock()

	if !s.authorized(r) {
		writeError(w, APIError(20003))
		return
	}
	// Read the whole form first: a dropped connection must come after
	// Twilio has the request.
	if err := r.ParseForm(); err != nil {
		writeError(w, Fault{code: 20001, status: http.StatusBadRequest, message: "Could not parse the request"})
		return
	}
	if fault != nil {
		switch fault.kind {
		case faultAPIError, faultRateLimit:
			writeError(w, *fault)
			return
		case faultHTML:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(fault.status)
			fmt.Fprint(w, "<html><head><title>503 Service Unavailable</title></head><body><h1>503 Service Unavailable</h1><p>The server is temporarily unable to service your request.</p></body></html>")
			return
		case faultHang:
			select {
			case <-r.Context().Done():
			case <-s.closing:
			}
			return
		}
	}

	var (
		status int
		body   any
	)
	switch m := messagesPath.FindStringSubmatch(r.URL.Path); {
	case m != nil && m[1] != s.account:
		status, body = notFound(r)
	case m != nil && r.Method == http.MethodPost:
		status, body = s.create(r)
	case m != nil && r.Method == http.MethodGet:
		status, body = s.list(r)
	default:
		if m := messagePath.FindStringSubmatch(r.URL.Path); m != nil && m[1] == s.account && r.Method == http.MethodGet {
			status, body = s.fetch(r, m[2])
		} else {
			status, body = notFound(r)
		}
	}

	if fault != nil && fault.kind == faultDrop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		http.Error(w, "twiliotest: cannot drop this connection", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Server) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	if user == s.account {
		return pass == s.token
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	secret, ok := s.apiKeys[user]
	return ok && pass == secret
}

func (s *Server) create(r *http.Request) (int, any) {
	f := r.PostForm
	to, from, svc, body := f.Get("To"), f.Get("From"), f.Get("MessagingServiceSid"), f.Get("Body")
	media := f["MediaUrl"]
	switch {
	case to == "":
		return apiError(APIError(21604))
	case from == "" && svc == "":
		return apiError(APIError(21603))
	case body == "" && len(media) == 0:
		return apiError(APIError(21602))
	case !e164.MatchString(to):
		return apiError(APIError(21211))
	case utf8.RuneCountInString(body) > 1600:
		return apiError(APIError(21617))
	case len(media) > 10:
		return apiError(APIError(21623))
	}
	prefix := "SM"
	if len(media) > 0 {
		prefix = "MM"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC()
	m := &Message{
		SID: NewSID(prefix), AccountSID: s.account, From: from, To: to, Body: body,
		MediaURLs: slices.Clone(media), MessagingServiceSID: svc, StatusCallback: f.Get("StatusCallback"),
		Status: "queued", DateCreated: now, DateUpdated: now,
	}
	if from == "" {
		// Through a Messaging Service, Twilio picks the sender later.
		m.Status = "accepted"
	}
	s.messages[m.SID] = m
	s.order = append(s.order, m.SID)
	s.creates = append(s.creates, Created{SID: m.SID, Form: cloneValues(f)})
	return http.StatusCreated, s.resource(m)
}

func (s *Server) fetch(r *http.Request, sid string) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.messages[sid]
	if !ok {
		return notFound(r)
	}
	return http.StatusOK, s.resource(m)
}

func (s *Server) list(r *http.Request) (int, any) {
	q := r.URL.Query()
	match, err := dateFilter(q)
	if err != nil {
		return apiError(Fault{code: 20001, status: http.StatusBadRequest, message: err.Error()})
	}
	size := 50
	if v, err := strconv.Atoi(q.Get("PageSize")); err == nil && v > 0 {
		size = min(v, 1000)
	}
	page := 0
	if v, err := strconv.Atoi(q.Get("Page")); err == nil && v > 0 {
		page = v
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*Message
	for i := len(s.order) - 1; i >= 0; i-- { // newest first
		m := s.messages[s.order[i]]
		if (q.Get("To") != "" && m.To != q.Get("To")) || (q.Get("From") != "" && m.From != q.Get("From")) || !match(m) {
			continue
		}
		all = append(all, m)
	}
	slices.SortStableFunc(all, func(a, b *Message) int { return b.DateCreated.Compare(a.DateCreated) })

	base := r.URL.Path
	pageURI := func(p int) string {
		v := cloneValues(q)
		v.Set("PageSize", strconv.Itoa(size))
		v.Set("Page", strconv.Itoa(p))
		if p > 0 {
			v.Set("PageToken", "PA"+strconv.Itoa(p*size))
		} else {
			v.Del("PageToken")
		}
		return base + "?" + v.Encode()
	}
	start := min(page*size, len(all))
	end := min(start+size, len(all))
	msgs := make([]map[string]any, 0, end-start)
	for _, m := range all[start:end] {
		msgs = append(msgs, s.resource(m))
	}
	resp := map[string]any{
		"messages":          msgs,
		"page":              page,
		"page_size":         size,
		"start":             start,
		"end":               max(end-1, start),
		"uri":               pageURI(page),
		"first_page_uri":    pageURI(0),
		"next_page_uri":     nil,
		"previous_page_uri": nil,
	}
	if end < len(all) {
		resp["next_page_uri"] = pageURI(page + 1)
	}
	if page > 0 {
		resp["previous_page_uri"] = pageURI(page - 1)
	}
	return http.StatusOK, resp
}

// dateFilter reads Twilio's DateSent, DateSent< and DateSent> filters.
// A bare date (YYYY-MM-DD) means that whole UTC day; a timestamp (as the Go
// SDK sends) means that instant. Messages not sent yet match no filter.
func dateFilter(q url.Values) (func(*Message) bool, error) {
	type bound struct {
		from, to time.Time // [from, to)
	}
	var bounds []bound
	for key, op := range map[string]byte{"DateSent": '=', "DateSent<": '<', "DateSent>": '>'} {
		v := q.Get(key)
		if v == "" {
			continue
		}
		from, to, err := parseDate(v)
		if err != nil {
			return nil, fmt.Errorf("invalid %s %q", key, v)
		}
		switch op {
		case '<':
			from = time.Time{}
		case '>':
			to = time.Unix(math.MaxInt32, 0)
		}
		bounds = append(bounds, bound{from, to})
	}
	return func(m *Message) bool {
		for _, b := range bounds {
			if m.DateSent.IsZero() || m.DateSent.Before(b.from) || !m.DateSent.Before(b.to) {
				return false
			}
		}
		return true
	}, nil
}

func parseDate(v string) (from, to time.Time, err error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, t.AddDate(0, 0, 1), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return t, t.Add(time.Nanosecond), nil
}

// resource renders m as Twilio's Message JSON.
func (s *Server) resource(m *Message) map[string]any {
	uri := fmt.Sprintf("/2010-04-01/Accounts/%s/Messages/%s.json", m.AccountSID, m.SID)
	segments := 1
	if c, err := channel.CountSegments(m.Body); err == nil && c.Count > 0 {
		segments = c.Count
	}
	res := map[string]any{
		"account_sid":           m.AccountSID,
		"api_version":           "2010-04-01",
		"body":                  m.Body,
		"date_created":          m.DateCreated.Format(twilioTime),
		"date_updated":          m.DateUpdated.Format(twilioTime),
		"date_sent":             nil,
		"direction":             "outbound-api",
		"error_code":            nil,
		"error_message":         nil,
		"from":                  nullable(m.From),
		"messaging_service_sid": nullable(m.MessagingServiceSID),
		"num_media":             strconv.Itoa(len(m.MediaURLs)),
		"num_segments":          strconv.Itoa(segments),
		"price":                 nil,
		"price_unit":            "USD",
		"sid":                   m.SID,
		"status":                m.Status,
		"subresource_uris":      map[string]string{"media": strings.TrimSuffix(uri, ".json") + "/Media.json"},
		"to":                    m.To,
		"uri":                   uri,
	}
	if !m.DateSent.IsZero() {
		res["date_sent"] = m.DateSent.Format(twilioTime)
	}
	if m.ErrorCode != 0 {
		res["error_code"] = m.ErrorCode
		res["error_message"] = errorMessages[m.ErrorCode]
	}
	return res
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func notFound(r *http.Request) (int, any) {
	f := APIError(20404)
	f.message = "The requested resource " + r.URL.Path + " was not found"
	return apiError(f)
}

func apiError(f Fault) (int, any) {
	return f.status, map[string]any{
		"code":      f.code,
		"message":   f.message,
		"more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(f.code),
		"status":    f.status,
	}
}

func writeError(w http.ResponseWriter, f Fault) {
	if f.kind == faultRateLimit {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.retryAfter.Seconds()))))
	}
	status, body := apiError(f)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// NewSID returns a random Twilio-shaped sid: prefix ("SM", "MM", "AC",
// "MG", ...) and 32 lowercase hex digits.
func NewSID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
