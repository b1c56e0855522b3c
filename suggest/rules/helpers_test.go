package rules_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/suggest/rules"
)

// now is 9:05 AM in Chicago on Tuesday 4 March 2025.
var now = time.Date(2025, time.March, 4, 15, 5, 0, 0, time.UTC)

func newSuggester(t testing.TB, cfg rules.Config) *rules.Suggester {
	t.Helper()
	s, err := rules.New(cfg, rules.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func job() *conversations.JobContext {
	return &conversations.JobContext{
		Tenant:      "t1",
		ID:          "job-1",
		Title:       "Water heater repair",
		WindowStart: time.Date(2025, time.March, 4, 16, 0, 0, 0, time.UTC),  // 10 AM CST
		WindowEnd:   time.Date(2025, time.March, 4, 18, 0, 0, 0, time.UTC),  // noon
		ETA:         time.Date(2025, time.March, 4, 16, 30, 0, 0, time.UTC), // 10:30 AM
		Address:     "12 Birch Lane",
		Technician:  "Mike Alvarez",
		Business:    "Birchwood Plumbing",
		Customer:    conversations.Contact{Name: "maria lopez"},
		TimeZone:    "America/Chicago",
	}
}

// contexts are the shapes of job context the rules must handle.
func contexts() map[string]*conversations.JobContext {
	eta := job()
	window := job()
	window.ETA = time.Time{}
	bare := job()
	bare.ETA, bare.WindowStart, bare.WindowEnd = time.Time{}, time.Time{}, time.Time{}
	stale := job()
	stale.ETA = now.Add(-time.Hour)
	stale.WindowStart, stale.WindowEnd = time.Time{}, time.Time{}
	nameless := job()
	nameless.Technician, nameless.Customer.Name, nameless.Business, nameless.Address = "", "", "", ""
	huge := job()
	huge.Address = strings.Repeat("Unit 9, Industrial Estate, ", 20)
	huge.Business = strings.Repeat("Tri-County Heating & Air ", 10)
	huge.Customer.Name = strings.Repeat("Maximiliana", 5) + " Lopez"
	utc := job()
	utc.TimeZone = ""
	return map[string]*conversations.JobContext{
		"no job":        nil,
		"eta":           eta,
		"window only":   window,
		"no eta/window": bare,
		"stale eta":     stale,
		"no names":      nameless,
		"oversize":      huge,
		"utc":           utc,
	}
}

func message(dir conversations.Direction, body string) conversations.Message {
	return conversations.Message{
		ID:        conversations.NewID[conversations.MessageID](),
		Tenant:    "t1",
		Thread:    "th-1",
		Kind:      conversations.KindCustomerSMS,
		Direction: dir,
		Channel:   conversations.ChannelSMS,
		Body:      body,
		CreatedAt: now,
	}
}

func inbound(body string) conversations.Message { return message(conversations.DirectionInbound, body) }
func outbound(body string) conversations.Message {
	return message(conversations.DirectionOutbound, body)
}

func request(j *conversations.JobContext, msgs ...conversations.Message) conversations.SuggestRequest {
	return conversations.SuggestRequest{
		Thread:   conversations.Thread{ID: "th-1", Tenant: "t1", Kind: conversations.ThreadCustomer},
		Messages: msgs,
		Job:      j,
		Viewer:   conversations.Viewer{Tenant: "t1", Staff: "staff-1", Role: conversations.RoleDispatcher},
		Author:   conversations.Staff{Tenant: "t1", ID: "staff-1", Name: "Sarah Kim"},
		Now:      now,
	}
}

func texts(ss []conversations.Suggestion) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString("\n  [" + string(s.Intent) + "] " + s.Text)
	}
	return b.String()
}
