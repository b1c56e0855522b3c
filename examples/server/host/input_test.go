package host_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/examples/server/host"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
)

// leaks are what an error answer must never carry: Go type names, package
// prefixes, database wording.
var leaks = []string{"store:", "conversations:", "host:", "channel:", "json:", "Go value", "Go struct", "SQLSTATE",
	"constraint", "sql:", "bun:", "pgx", "sqlite", "*conversations", "struct {"}

func checkPlain(t *testing.T, what, message string) {
	t.Helper()
	for _, l := range leaks {
		if strings.Contains(message, l) {
			t.Errorf("%s: the error message %q carries %q", what, message, l)
		}
	}
}

// TestNulInEveryRoute sends a NUL (or another control character, or a
// file: media URL) in each text field and path id of every route, on both
// databases: each answer is 400 naming the field, in plain words, and the
// database is unchanged.
func TestNulInEveryRoute(t *testing.T) {
	databases(t, func(t *testing.T, db database) {
		p := startProduction(t, db)
		d := p.demo
		dana, tom := d.Token("dana"), d.Token("tom")
		job := p.inbox(t, tom)[0].ID
		const nul = "a\x00b"
		cursor := base64.RawURLEncoding.EncodeToString([]byte("1:\x00"))
		before := testdb.Fingerprint(t, p.db)
		for _, tc := range []struct {
			method, path string
			body         any
			field        string
		}{
			{"GET", "/v1/threads/%00", nil, "thread"},
			{"GET", "/v1/threads/a%00b/messages", nil, "thread"},
			{"GET", "/v1/threads/%00/suggestions", nil, "thread"},
			{"POST", "/v1/threads/%00/read", nil, "thread"},
			{"POST", "/v1/threads/%00/messages", map[string]any{"body": "hi", "client_id": "c1"}, "thread"},
			{"POST", "/v1/threads/" + job + "/messages", map[string]any{"body": nul, "client_id": "c1"}, "body"},
			{"POST", "/v1/threads/" + job + "/messages", map[string]any{"body": "ring\a", "client_id": "c1"}, "body"},
			{"POST", "/v1/threads/" + job + "/messages", map[string]any{"body": "hi", "client_id": nul}, "client_id"},
			{"POST", "/v1/threads/" + job + "/messages", map[string]any{"body": "hi", "client_id": "c1", "job": nul}, "job"},
			{"POST", "/v1/threads/" + job + "/messages", map[string]any{"body": "hi", "client_id": "c1", "draft": nul}, "draft"},
			{"POST", "/v1/threads/" + job + "/messages", map[string]any{"body": "hi", "client_id": "c1",
				"media": []map[string]string{{"url": "file:///etc/passwd"}}}, "media.url"},
			{"POST", "/v1/threads/" + job + "/messages", map[string]any{"body": "hi", "client_id": "c1",
				"media": []map[string]string{{"url": "https://cdn.example.com/a.jpg", "content_type": nul}}}, "media.content_type"},
			{"POST", "/v1/messages", map[string]any{"to": "+15005550998", "body": nul, "client_id": "c2"}, "body"},
			{"POST", "/v1/messages", map[string]any{"to": "+1500555\x000998", "body": "hi", "client_id": "c2"}, "to"},
			{"POST", "/v1/suggestions/%00/use", map[string]any{"client_id": "c3"}, "suggestion"},
			{"POST", "/v1/suggestions/s1/use", map[string]any{"client_id": nul}, "client_id"},
			{"POST", "/v1/suggestions/%00/dismiss", nil, "suggestion"},
			{"POST", "/v1/threads", map[string]any{"participants": []string{"tom"}, "subject": nul}, "subject"},
			{"POST", "/v1/threads", map[string]any{"participants": []string{"to\x00m"}}, "participants"},
			{"POST", "/v1/threads", map[string]any{"participants": []string{"tom"}, "job": nul}, "job"},
			{"POST", "/v1/jobs/%00/thread", nil, "job"},
			{"POST", "/v1/drafts", map[string]any{"thread": job, "body": nul}, "body"},
			{"POST", "/v1/drafts", map[string]any{"thread": job, "body": "x", "client_id": nul}, "client_id"},
			{"POST", "/v1/drafts", map[string]any{"thread": nul, "body": "x"}, "thread"},
			{"GET", "/v1/drafts/%00", nil, "draft"},
			{"PUT", "/v1/drafts/%00", map[string]any{"thread": job, "body": "x", "version": 1}, "draft"},
			{"DELETE", "/v1/drafts/%00", nil, "draft"},
			{"POST", "/v1/devices", map[string]any{"token": nul}, "token"},
			{"POST", "/v1/devices", map[string]any{"token": "t", "platform": nul}, "platform"},
			{"POST", "/v1/segments", map[string]any{"body": nul}, "body"},
			{"GET", "/v1/inbox?after=" + cursor, nil, "after"},
			{"GET", "/v1/inbox?filter=%00", nil, "filter"},
		} {
			e := p.expectError(t, tc.method, tc.path, dana, tc.body, http.StatusBadRequest, "invalid")
			if e.Error.Field != tc.field {
				t.Errorf("%s %s: field %q, want %q (%s)", tc.method, tc.path, e.Error.Field, tc.field, e.Error.Message)
			}
			checkPlain(t, tc.method+" "+tc.path, e.Error.Message)
		}
		now := time.Now()
		for _, tc := range []struct {
			path  string
			body  map[string]any
			field string
		}{
			{"/webhooks/receptionist", map[string]any{"business_number": number, "contact": map[string]string{"phone": "+15005550777", "name": nul},
				"summary": "Burst pipe", "key": "call-1"}, "contact.name"},
			{"/webhooks/receptionist", map[string]any{"business_number": number, "contact": map[string]string{"phone": "+15005550777"},
				"summary": nul, "key": "call-2"}, "summary"},
			{"/webhooks/receptionist", map[string]any{"business_number": nul, "contact": map[string]string{"phone": "+15005550777"},
				"summary": "Burst pipe", "key": "call-3"}, "number"},
			{"/webhooks/workflow", map[string]any{"tenant": string(d.Tenant), "channel": "sms", "contact": map[string]string{"phone": "+15005550777"},
				"body": nul, "key": "wf-1"}, "body"},
			{"/webhooks/workflow", map[string]any{"tenant": string(d.Tenant), "channel": "sms", "contact": map[string]string{"phone": "+15005550777"},
				"body": "On our way", "key": nul}, "key"},
		} {
			status, raw := p.hook(t, tc.path, secret, tc.body, now)
			var e apiError
			if err := json.Unmarshal(raw, &e); err != nil || status != http.StatusBadRequest || e.Error.Field != tc.field {
				t.Errorf("%s with a NUL in %s: %d %s, want 400 naming the field", tc.path, tc.field, status, raw)
			}
			checkPlain(t, tc.path, e.Error.Message)
		}
		if after := testdb.Fingerprint(t, p.db); after != before {
			t.Fatal("a refused request changed the database")
		}

		// A customer's SMS with a NUL is kept, without it: refusing it
		// would lose the customer's text (conversations.CleanText).
		form := url.Values{"MessageSid": {"SM" + strings.Repeat("0", 31) + "1"}, "AccountSid": {p.twilio.AccountSID()},
			"From": {d.Customer.Phone}, "To": {number}, "Body": {"gate code\x00 4321\x1b"}, "NumMedia": {"0"}}
		if status := p.twilioPost(t, "/webhooks/twilio/inbound", form, ""); status != http.StatusOK {
			t.Fatalf("Twilio inbound with a NUL in Body answered %d, want 200", status)
		}
		msgs := p.history(t, dana, job)
		if len(msgs) == 0 || msgs[0].Body != "gate code 4321" {
			t.Fatalf("newest message of the job's thread = %+v, want the customer's text without its control characters", msgs[:min(1, len(msgs))])
		}
	})
}

// TestErrorsSpeakToTheClient: every refusal is the code, a sentence for
// the API's user and the field, in JSON, on every route, on both
// databases; never Go types, package prefixes or constraint names.
func TestErrorsSpeakToTheClient(t *testing.T) {
	databases(t, func(t *testing.T, db database) {
		r := start(t, host.Config{Database: db.dsn, Citus: db.citus, HookSecret: secret})
		d := r.demo
		dana, tom, tara := d.Token("dana"), d.Token("tom"), d.Token("tara")
		job := r.inbox(t, tom)[0].ID
		send := "/v1/threads/" + job + "/messages"
		for _, tc := range []struct {
			method, path, token string
			body                any
			status              int
			code, field         string
		}{
			{"POST", send, tom, `{"body":1,"client_id":"c"}`, 400, "invalid", "body"},
			{"POST", send, tom, `{"body":"x","client_id":"c","media":{"url":"https://e.com/a"}}`, 400, "invalid", "media"},
			{"POST", send, tom, `{"body":"x","client_id":"c","nope":true}`, 400, "invalid", "nope"},
			{"POST", send, tom, `{"body":"x",`, 400, "invalid", "body"},
			{"POST", send, tom, `{"body":"x"} {"body":"y"}`, 400, "invalid", "body"},
			{"POST", send, tom, `[1,2]`, 400, "invalid", "body"},
			{"POST", "/v1/threads/" + job + "/read", tom, `{"seq":1e400}`, 400, "invalid", "seq"},
			{"POST", "/v1/threads/" + job + "/read", tom, `{"seq":99999999999999999999}`, 400, "invalid", "seq"},
			{"POST", "/v1/threads/" + job + "/read", tom, `{"seq":-1}`, 400, "invalid", "seq"},
			{"POST", "/v1/threads/" + job + "/read", tom, `{"seq":"1"}`, 400, "invalid", "seq"},
			{"GET", "/v1/threads/" + job + "/messages?limit=-5", tom, nil, 400, "invalid", "limit"},
			{"GET", "/v1/threads/" + job + "/messages?before=99999999999999999999", tom, nil, 400, "invalid", "before"},
			{"GET", "/v1/threads/" + string(conversations.NewID[conversations.ThreadID]()), dana, nil, 404, "not_found", ""},
			{"GET", "/v1/threads/" + job, tara, nil, 403, "forbidden", ""},
			{"GET", "/v1/drafts/" + string(conversations.NewID[conversations.DraftID]()), tom, nil, 404, "not_found", ""},
			{"GET", "/v1/nowhere", tom, nil, 404, "not_found", ""},
			{"GET", "/v1/stream", "", nil, 401, "unauthenticated", ""},
			{"GET", "/v1/stream", "demo_tom_forged", nil, 401, "unauthenticated", ""},
		} {
			e := r.expectError(t, tc.method, tc.path, tc.token, tc.body, tc.status, tc.code)
			if e.Error.Field != tc.field {
				t.Errorf("%s %s %v: field %q, want %q (%s)", tc.method, tc.path, tc.body, e.Error.Field, tc.field, e.Error.Message)
			}
			checkPlain(t, tc.method+" "+tc.path, e.Error.Message)
		}

		// Two drafts of one author may not share a client id: a unique
		// index says so, and its name stays in the log.
		r.call(t, "POST", "/v1/drafts", tom, map[string]any{"thread": job, "body": "a", "client_id": "dup"}, http.StatusCreated)
		e := r.expectError(t, "POST", "/v1/drafts", tom, map[string]any{"thread": job, "body": "b", "client_id": "dup"}, http.StatusConflict, "conflict")
		checkPlain(t, "a clashing draft", e.Error.Message)

		// A route that exists for other methods is 405 with Allow.
		for _, tc := range []struct{ method, path, allow string }{
			{"DELETE", "/v1/inbox", "GET, HEAD"},
			{"GET", "/v1/threads", "POST"},
			{"PATCH", "/v1/drafts/x", "DELETE, GET, HEAD, PUT"},
			{"POST", "/v1/stream", "GET, HEAD"},
		} {
			req, err := http.NewRequest(tc.method, r.url+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tom)
			resp, err := r.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var e apiError
			_ = json.NewDecoder(resp.Body).Decode(&e)
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed || e.Error.Code != "method_not_allowed" {
				t.Errorf("%s %s: %d %+v, want 405 method_not_allowed", tc.method, tc.path, resp.StatusCode, e.Error)
			}
			if got := resp.Header.Get("Allow"); got != tc.allow {
				t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
			}
		}
	})
}
