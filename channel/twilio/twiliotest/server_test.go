package twiliotest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
)

type apiClient struct {
	t   *testing.T
	srv *twiliotest.Server
}

func (c apiClient) do(method, path string, form url.Values) (int, map[string]any) {
	c.t.Helper()
	var body *strings.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
		if form != nil {
			path += "?" + form.Encode()
		}
	}
	req, err := http.NewRequest(method, c.srv.URL()+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.SetBasicAuth(c.srv.AccountSID(), c.srv.AuthToken())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		c.t.Fatalf("%s %s: not JSON: %v", method, path, err)
	}
	return resp.StatusCode, out
}

func messagesPath(srv *twiliotest.Server) string {
	return "/2010-04-01/Accounts/" + srv.AccountSID() + "/Messages.json"
}

func TestCreateFetchList(t *testing.T) {
	srv := twiliotest.NewServer(t)
	c := apiClient{t, srv}
	day := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	srv.SetClock(func() time.Time { return day })

	var sids []string
	for i, to := range []string{"+14155550142", "+14155550143", "+14155550142"} {
		status, m := c.do(http.MethodPost, messagesPath(srv), url.Values{
			"To": {to}, "From": {"+14155550100"}, "Body": {fmt.Sprintf("message %d", i)},
		})
		if status != http.StatusCreated {
			t.Fatalf("create: %d %v", status, m)
		}
		sid, _ := m["sid"].(string)
		if len(sid) != 34 || !strings.HasPrefix(sid, "SM") || m["status"] != "queued" || m["date_sent"] != nil {
			t.Fatalf("create answer %v: want an SM sid, queued, not sent yet", m)
		}
		sids = append(sids, sid)
	}
	if got := len(srv.Creates()); got != 3 {
		t.Fatalf("Creates() = %d, want 3", got)
	}

	status, m := c.do(http.MethodGet, "/2010-04-01/Accounts/"+srv.AccountSID()+"/Messages/"+sids[1]+".json", nil)
	if status != http.StatusOK || m["to"] != "+14155550143" || m["date_created"] != "Fri, 14 Mar 2025 09:00:00 +0000" {
		t.Errorf("fetch: %d %v", status, m)
	}
	status, m = c.do(http.MethodGet, "/2010-04-01/Accounts/"+srv.AccountSID()+"/Messages/SMnope.json", nil)
	if status != http.StatusNotFound || m["code"] != float64(20404) {
		t.Errorf("fetch unknown: %d %v, want 404 with code 20404", status, m)
	}

	list := func(q url.Values) []any {
		t.Helper()
		status, m := c.do(http.MethodGet, messagesPath(srv), q)
		if status != http.StatusOK {
			t.Fatalf("list %v: %d %v", q, status, m)
		}
		msgs, _ := m["messages"].([]any)
		return msgs
	}
	if got := list(url.Values{"To": {"+14155550142"}}); len(got) != 2 {
		t.Errorf("list To: %d messages, want 2", len(got))
	}
	if got := list(url.Values{"DateSent>": {"2025-03-14T00:00:00Z"}}); len(got) != 0 {
		t.Errorf("list DateSent>: %d messages, want 0 (none sent yet)", len(got))
	}
	if err := srv.SetStatus(sids[0], "delivered", 0); err != nil {
		t.Fatal(err)
	}
	if got := list(url.Values{"DateSent": {"2025-03-14"}}); len(got) != 1 {
		t.Errorf("list DateSent=day: %d messages, want 1", len(got))
	}
	if got := list(url.Values{"DateSent<": {"2025-03-13"}}); len(got) != 0 {
		t.Errorf("list DateSent< day before: %d messages, want 0", len(got))
	}

	status, m = c.do(http.MethodGet, messagesPath(srv), url.Values{"PageSize": {"2"}})
	next, _ := m["next_page_uri"].(string)
	if status != http.StatusOK || len(m["messages"].([]any)) != 2 || next == "" {
		t.Fatalf("page 0: %d %v, want 2 messages and a next page", status, m)
	}
	status, m = c.do(http.MethodGet, next, nil)
	if status != http.StatusOK || len(m["messages"].([]any)) != 1 || m["next_page_uri"] != nil {
		t.Errorf("page 1: %d %v, want the last message and no next page", status, m)
	}
}

func TestServerRefuses(t *testing.T) {
	srv := twiliotest.NewServer(t)
	c := apiClient{t, srv}
	tests := []struct {
		name string
		form url.Values
		code float64
	}{
		{"no To", url.Values{"From": {"+14155550100"}, "Body": {"x"}}, 21604},
		{"no sender", url.Values{"To": {"+14155550142"}, "Body": {"x"}}, 21603},
		{"no body", url.Values{"To": {"+14155550142"}, "From": {"+14155550100"}}, 21602},
		{"bad To", url.Values{"To": {"555"}, "From": {"+14155550100"}, "Body": {"x"}}, 21211},
	}
	for _, tt := range tests {
		status, m := c.do(http.MethodPost, messagesPath(srv), tt.form)
		if status != http.StatusBadRequest || m["code"] != tt.code || m["more_info"] == "" {
			t.Errorf("%s: %d %v, want 400 code %v", tt.name, status, m, tt.code)
		}
	}

	req, _ := http.NewRequest(http.MethodGet, srv.URL()+messagesPath(srv), nil)
	req.SetBasicAuth(srv.AccountSID(), "wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong token: %d, want 401", resp.StatusCode)
	}
	if len(srv.Creates()) != 0 {
		t.Errorf("refused creates were recorded")
	}
}

func TestFaultsApplyToTheNextCalls(t *testing.T) {
	srv := twiliotest.NewServer(t)
	c := apiClient{t, srv}
	srv.Fail(2, twiliotest.RateLimit(1500*time.Millisecond))
	form := url.Values{"To": {"+14155550142"}, "From": {"+14155550100"}, "Body": {"x"}}
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL()+messagesPath(srv), strings.NewReader(form.Encode()))
		req.SetBasicAuth(srv.AccountSID(), srv.AuthToken())
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
			t.Errorf("faulted call: %d Retry-After %q, want 429 and 2 (whole seconds, rounded up)", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	if status, _ := c.do(http.MethodPost, messagesPath(srv), form); status != http.StatusCreated {
		t.Errorf("third call: %d, want 201 (the faults are used up)", status)
	}
	if got := srv.Requests(); got != 3 {
		t.Errorf("Requests() = %d, want 3", got)
	}
}

func ExampleSigner_Sign() {
	// The test vector twilio-go's own RequestValidator tests use.
	s := twiliotest.Signer{AuthToken: "12345"}
	form := url.Values{
		"CallSid":               {"CA1234567890ABCDE"},
		"Caller":                {"+14158675309"},
		"Digits":                {"1234"},
		"From":                  {"+14158675309"},
		"To":                    {"+18005551212"},
		"Reason":                {"Participant"},
		"ReasonConferenceEnded": {"test"},
	}
	fmt.Println(s.Sign("https://mycompany.com/myapp.php?foo=1&bar=2", form))
	// Output:
	// vOEb5UThFn24KEfnOFLQY2AE5FY=
}
