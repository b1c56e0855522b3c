package host_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/examples/server/host"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
)

// fuzzRoutes are the API's routes as the fuzzer picks them; {id} is a
// path id, {n} a number and {text} a string of the input.
var fuzzRoutes = []string{
	"/v1/inbox?limit={n}&filter={text}&after={text}",
	"/v1/badge",
	"/v1/threads",
	"/v1/threads/{id}",
	"/v1/threads/{id}/messages?before={n}&limit={n}",
	"/v1/threads/{id}/read",
	"/v1/threads/{id}/suggestions",
	"/v1/messages",
	"/v1/jobs/{id}/thread",
	"/v1/suggestions/{id}/use",
	"/v1/suggestions/{id}/dismiss",
	"/v1/drafts",
	"/v1/drafts/{id}",
	"/v1/devices",
	"/v1/segments",
	"/dev/sms",
	"/webhooks/receptionist",
	"/webhooks/workflow",
	"/{text}",
	"/v1/preferences",
	"/v1/threads/{id}/mute",
}

var fuzzMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"}

// FuzzAPI sends the example server's JSON API random requests: any route
// and method, path ids and fields with NUL, control characters, invalid
// UTF-8 and unknown ids, huge and negative numbers, or a body of raw bytes.
// No answer may be a 5xx (a panic is one: the server turns it into 500),
// and an answer of 4xx must leave the database as it was. The seed corpus
// is in testdata/fuzz/FuzzAPI; scripts/test.sh fuzzes for a fixed time.
func FuzzAPI(f *testing.F) {
	f.Add(uint8(0), uint8(0), uint8(1), "", "hi", int64(10), 0.0, []byte(nil))
	f.Add(uint8(4), uint8(1), uint8(1), "", "a\x00b", int64(1), 0.0, []byte(nil))
	f.Add(uint8(7), uint8(1), uint8(0), "", "+15005550998", int64(-1), 1e300, []byte(nil))
	f.Add(uint8(3), uint8(0), uint8(1), "\x00", "", int64(0), 0.0, []byte(nil))
	f.Add(uint8(5), uint8(1), uint8(1), "", "", int64(math.MaxInt64), math.Inf(1), []byte(nil))
	f.Add(uint8(11), uint8(1), uint8(4), "", "", int64(0), 0.0, []byte(`{"body":"\xff\xfe","thread":"x"}`))
	f.Add(uint8(15), uint8(1), uint8(2), "", "When? \x1b\xff", int64(0), 0.0, []byte(nil))
	f.Add(uint8(18), uint8(3), uint8(3), "J-NOPE", "v1/../x", int64(-9), -1e-300, []byte(nil))

	r := start(f, host.Config{Database: "sqlite:" + filepath.Join(f.TempDir(), "fieldtalk.db"), HookSecret: secret})
	d := r.demo
	tokens := []string{d.Token("dana"), d.Token("tom"), d.Token("tara"), ""}
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	// The job's thread: a known id, for inputs that leave theirs empty.
	page, err := r.svc.Inbox(context.Background(), conversations.Viewer{Tenant: d.Tenant, Staff: "tom", Role: conversations.RoleTechnician},
		conversations.InboxQuery{})
	if err != nil || len(page.Threads) == 0 {
		f.Fatalf("the demo's thread: %v", err)
	}
	known := string(page.Threads[0].ID)
	// settled is the database's fingerprint when nothing has changed it
	// since the last refused request; "" after an accepted one, whose
	// delivery may still be running.
	settled := ""

	f.Fuzz(func(t *testing.T, route, method, mode uint8, id, text string, n int64, x float64, raw []byte) {
		if id == "" {
			id = known
		}
		number := strconv.FormatInt(n, 10)
		if mode&8 != 0 && !math.IsNaN(x) && !math.IsInf(x, 0) {
			number = strconv.FormatFloat(x, 'g', -1, 64)
		}
		path := fuzzRoutes[int(route)%len(fuzzRoutes)]
		path = strings.ReplaceAll(path, "{id}", url.PathEscape(id))
		path = strings.ReplaceAll(path, "{n}", url.QueryEscape(number))
		path = strings.ReplaceAll(path, "{text}", url.QueryEscape(text))
		var body []byte
		if mode&4 != 0 {
			body = raw
		} else {
			body = fuzzBody(id, text, json.RawMessage(validNumber(number)))
		}
		req, err := http.NewRequest(fuzzMethods[int(method)%len(fuzzMethods)], r.url+path, bytes.NewReader(body))
		if err != nil {
			return // not a request a client can send
		}
		if tok := tokens[int(mode)%len(tokens)]; tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		before := settled
		if before == "" {
			before = waitQuiet(t, r)
		}
		settled = ""
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", req.Method, path, err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s %q: %d %s", req.Method, path, body, resp.StatusCode, answer)
		}
		if resp.StatusCode >= 400 {
			var e apiError
			if req.Method != "HEAD" && (json.Unmarshal(answer, &e) != nil || e.Error.Code == "" || e.Error.Message == "") {
				t.Fatalf("%s %s: %d answered %q, not the JSON error shape", req.Method, path, resp.StatusCode, answer)
			}
			checkPlain(t, req.Method+" "+path, e.Error.Message)
			if after := testdb.Fingerprint(t, r.db); after != before {
				t.Fatalf("%s %s %q: answered %d but changed the database", req.Method, path, body, resp.StatusCode)
			}
			settled = before
		}
	})
}

// fuzzBody is a JSON object with every field some route reads, filled
// from the input: each route takes the fields it knows, and an unknown one
// is refused, so the fuzzer reaches both.
func fuzzBody(id, text string, number json.RawMessage) []byte {
	b, err := json.Marshal(map[string]any{
		"body": text, "client_id": text, "to": text, "from": "+15005550999", "thread": id, "job": id,
		"draft": id, "seq": number, "version": number, "token": text, "platform": text,
		"participants": []string{id, text}, "subject": text, "media": []map[string]string{{"url": text}},
	})
	if err != nil {
		return nil
	}
	return b
}

// validNumber is s when it is a JSON number, else 0.
func validNumber(s string) string {
	if json.Valid([]byte(s)) {
		return s
	}
	return "0"
}

// waitQuiet waits until no delivery is pending and the database stays the
// same for a moment (a send's delivery, by the queue's workers, moves its
// message on after the answer), and returns its fingerprint.
func waitQuiet(t testing.TB, r *running) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	last := testdb.Fingerprint(t, r.db)
	for time.Now().Before(deadline) {
		var pending int
		if err := r.db.SQL().QueryRow(`SELECT count(*) FROM messages WHERE status IN ('queued', 'sending')`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond)
		now := testdb.Fingerprint(t, r.db)
		if pending == 0 && now == last {
			return now
		}
		last = now
	}
	t.Fatal("the database did not settle within 10s")
	return ""
}
