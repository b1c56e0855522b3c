package host_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/examples/server/host"
	"github.com/fieldtalk/fieldtalk/notify/push/pushtest"
)

type preferences struct {
	Push       string `json:"push"`
	Preview    string `json:"preview"`
	QuietHours *struct {
		Start    string `json:"start"`
		End      string `json:"end"`
		TimeZone string `json:"time_zone"`
	} `json:"quiet_hours"`
	ExcludeMutedFromBadge bool     `json:"exclude_muted_from_badge"`
	Muted                 []string `json:"muted"`
}

type muteAnswer struct {
	Thread string `json:"thread"`
	Muted  bool   `json:"muted"`
	Badge  int64  `json:"badge"`
}

// TestPreferencesAndMuteFromTheApp: a person's preferences and mutes go
// through the API, reach their other devices on the stream, and a muted
// thread stays in the inbox with its unread count while the badge leaves
// it out only when asked; every bad input is refused and changes nothing.
func TestPreferencesAndMuteFromTheApp(t *testing.T) {
	databases(t, func(t *testing.T, db database) {
		const pushSecret = "0123456789abcdef0123"
		gw := pushtest.NewGateway(t, []byte(pushSecret))
		r := start(t, host.Config{Database: db.dsn, Citus: db.citus, Push: host.PushConfig{WebhookURL: gw.URL(), WebhookSecret: pushSecret}})
		dana, tom, tara := r.demo.Token("dana"), r.demo.Token("tom"), r.demo.Token("tara")
		tenant := string(r.demo.Tenant)
		got := decodeAs[preferences](t, r, "GET", "/v1/preferences", dana, nil, http.StatusOK)
		if got.Push != "" || got.ExcludeMutedFromBadge || len(got.Muted) != 0 {
			t.Fatalf("someone who saved nothing has the defaults: got %+v", got)
		}
		tablet := r.stream(t, dana)
		next(t, tablet, "ready")

		// Quiet hours that do not hold now, whenever the test runs.
		now := time.Now().UTC()
		want := map[string]any{"push": "all", "preview": "hidden", "exclude_muted_from_badge": true,
			"quiet_hours": map[string]string{"start": now.Add(2 * time.Hour).Format("15:04"), "end": now.Add(3 * time.Hour).Format("15:04"), "time_zone": "UTC"}}
		got = decodeAs[preferences](t, r, "PUT", "/v1/preferences", dana, want, http.StatusOK)
		if got.Push != "all" || got.Preview != "hidden" || !got.ExcludeMutedFromBadge || got.QuietHours == nil ||
			got.QuietHours.TimeZone != "UTC" {
			t.Fatalf("PUT /v1/preferences answers what it stored: got %+v", got)
		}
		ev := next(t, tablet, "preferences")
		var p struct {
			Type  string `json:"type"`
			Badge int64  `json:"badge"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &p); err != nil || p.Type != "preferences" {
			t.Fatalf("the other device is told: %q, %v", ev.Data, err)
		}
		if again := decodeAs[preferences](t, r, "GET", "/v1/preferences", dana, nil, http.StatusOK); again.Push != "all" {
			t.Fatalf("another device reads the same preferences: got %+v", again)
		}

		for _, bad := range []struct {
			name, token string
			body        any
		}{
			{"a technician may not ask for every customer message", tom, map[string]any{"push": "all"}},
			{"an unknown push mode", dana, map[string]any{"push": "sometimes"}},
			{"an unknown preview", dana, map[string]any{"preview": "partial"}},
			{"malformed quiet hours", dana, map[string]any{"quiet_hours": map[string]string{"start": "25:00", "end": "06:00", "time_zone": "UTC"}}},
			{"an unknown time zone", dana, map[string]any{"quiet_hours": map[string]string{"start": "22:00", "end": "06:00", "time_zone": "Mars/Olympus"}}},
		} {
			t.Run(bad.name, func(t *testing.T) {
				r.expectError(t, "PUT", "/v1/preferences", bad.token, bad.body, http.StatusBadRequest, "invalid")
			})
		}
		if still := decodeAs[preferences](t, r, "GET", "/v1/preferences", dana, nil, http.StatusOK); still.Push != "all" || still.Preview != "hidden" {
			t.Fatalf("a refused change changes nothing: got %+v", still)
		}

		// Dana asked for every customer message with a hidden preview: the
		// push says "New message", the gateway gets no text, and the
		// collapse key is the thread's.
		in := decodeAs[message](t, r, "POST", "/dev/sms", "", map[string]string{"from": r.demo.Customer.Phone, "body": "Is 9am still ok?"}, http.StatusCreated)
		pushed := nextMessagePush(t, gw, tenant, "dana")
		if pushed.Body.Alert == nil || pushed.Body.Alert.Title != "New message" || pushed.Body.Alert.Body != "" ||
			pushed.Body.Message == nil || pushed.Body.Message.Body != "" || pushed.Body.CollapseKey != in.Thread {
			t.Fatalf("a hidden preview: got alert %+v, message %+v, collapse key %q", pushed.Body.Alert, pushed.Body.Message, pushed.Body.CollapseKey)
		}
		threads := r.inbox(t, dana)
		i := slices.IndexFunc(threads, func(th thread) bool { return th.ID == in.Thread })
		if i < 0 || threads[i].Unread == 0 {
			t.Fatalf("the customer's thread is unread in Dana's inbox: %+v", threads)
		}
		th := threads[i]
		before := r.badge(t, dana)
		r.expectError(t, "PUT", "/v1/threads/"+th.ID+"/mute", tara, nil, http.StatusForbidden, "forbidden")
		r.expectError(t, "PUT", "/v1/threads/no-such-thread/mute", dana, nil, http.StatusNotFound, "not_found")
		m := decodeAs[muteAnswer](t, r, "PUT", "/v1/threads/"+th.ID+"/mute", dana, nil, http.StatusOK)
		if !m.Muted || m.Thread != th.ID || m.Badge != before-th.Unread {
			t.Fatalf("a mute leaves the thread out of a badge that excludes muted threads: got %+v, badge before %d, thread unread %d", m, before, th.Unread)
		}
		next(t, tablet, "preferences")
		after := r.inbox(t, dana)
		if j := slices.IndexFunc(after, func(x thread) bool { return x.ID == th.ID }); j < 0 || after[j].Unread != th.Unread {
			t.Fatalf("a muted thread stays in the inbox with its unread count: got %+v", after)
		}
		if got := decodeAs[preferences](t, r, "GET", "/v1/preferences", dana, nil, http.StatusOK); !slices.Equal(got.Muted, []string{th.ID}) {
			t.Fatalf("the preferences list the muted thread: got %v", got.Muted)
		}
		decodeAs[message](t, r, "POST", "/dev/sms", "", map[string]string{"from": r.demo.Customer.Phone, "body": "Hello?"}, http.StatusCreated)
		if pushed := nextMessagePush(t, gw, tenant, "dana"); pushed.Body.Alert != nil {
			t.Fatalf("a muted thread's message shows nothing on the phone: got %+v", pushed.Body.Alert)
		}
		ev = next(t, tablet, "message")
		if err := json.Unmarshal([]byte(ev.Data), &p); err != nil || p.Type != "message" {
			t.Fatalf("the stream still carries the muted thread's message: %q, %v", ev.Data, err)
		}
		th.Unread++
		m = decodeAs[muteAnswer](t, r, "DELETE", "/v1/threads/"+th.ID+"/mute", dana, nil, http.StatusOK)
		if m.Muted || m.Badge != before+1 {
			t.Fatalf("an unmute counts the thread again, with the message that came while muted: got %+v, want badge %d", m, before+1)
		}
		r.expectError(t, "DELETE", "/v1/threads/no-such-thread/mute", dana, nil, http.StatusNotFound, "not_found")
	})
}

// nextMessagePush returns the next push of a message the gateway received
// for staff, skipping badge and preferences updates.
func nextMessagePush(t *testing.T, gw *pushtest.Gateway, tenant, staff string) pushtest.Received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		got, err := gw.Next(ctx, tenant, staff)
		if err != nil {
			t.Fatalf("no push of a message for %s: %v", staff, err)
		}
		if got.Body.Type == "message" {
			return got
		}
	}
}
