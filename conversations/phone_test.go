package conversations_test

import (
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
)

func TestValidE164(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"+15005550006", true},
		{"+442079460958", true},
		{"+1234567", true},
		{"+123456789012345", true},
		{"+1234567890123456", false}, // 16 digits
		{"+123456", false},
		{"15005550006", false},
		{"+05005550006", false},
		{"+1 500 555 0006", false},
		{"+1500555000a", false},
		{"", false},
	} {
		if got := conversations.ValidE164(tc.in); got != tc.want {
			t.Errorf("ValidE164(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestOptKeyword(t *testing.T) {
	for _, tc := range []struct {
		body    string
		keyword string
		optOut  bool
		ok      bool
	}{
		{"STOP", "STOP", true, true},
		{"  stop\n", "STOP", true, true},
		{"Unsubscribe", "UNSUBSCRIBE", true, true},
		{"stopall", "STOPALL", true, true},
		{"cancel", "CANCEL", true, true},
		{"end", "END", true, true},
		{"quit", "QUIT", true, true},
		{"revoke", "REVOKE", true, true},
		{"OptOut", "OPTOUT", true, true},
		{"start", "START", false, true},
		{"UNSTOP", "UNSTOP", false, true},
		{"Stop please", "", false, false},
		{"stop.", "", false, false},
		{"please cancel my appointment", "", false, false},
		{"", "", false, false},
	} {
		kw, out, ok := conversations.OptKeyword(tc.body)
		if kw != tc.keyword || out != tc.optOut || ok != tc.ok {
			t.Errorf("OptKeyword(%q) = %q,%v,%v want %q,%v,%v", tc.body, kw, out, ok, tc.keyword, tc.optOut, tc.ok)
		}
	}
}

func TestNewIDIsTimeOrdered(t *testing.T) {
	prev := conversations.NewID[conversations.MessageID]()
	for range 10000 {
		id := conversations.NewID[conversations.MessageID]()
		if id <= prev {
			t.Fatalf("ids must increase: %s after %s", id, prev)
		}
		prev = id
	}
}
