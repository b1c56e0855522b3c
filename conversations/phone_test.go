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
		onlyIf  bool
		ok      bool
	}{
		{"STOP", "STOP", true, false, true},
		{"  stop\n", "STOP", true, false, true},
		{"Stop.", "STOP", true, false, true},
		{"STOP!!", "STOP", true, false, true},
		{"\"stop\"", "STOP", true, false, true},
		{"Unsubscribe", "UNSUBSCRIBE", true, false, true},
		{"stopall", "STOPALL", true, false, true},
		{"cancel", "CANCEL", true, false, true},
		{"Cancel.", "CANCEL", true, false, true},
		{"end", "END", true, false, true},
		{"quit", "QUIT", true, false, true},
		{"revoke", "REVOKE", true, false, true},
		{"OptOut", "OPTOUT", true, false, true},
		{"start", "START", false, false, true},
		{"UNSTOP", "UNSTOP", false, false, true},
		{"yes", "YES", false, true, true},
		{"Yes!", "YES", false, true, true},
		{"Stop please", "", false, false, false},
		{"stop stop", "", false, false, false},
		{"opt out", "", false, false, false},
		{"yes please", "", false, false, false},
		{"please cancel my appointment", "", false, false, false},
		{"...", "", false, false, false},
		{"", "", false, false, false},
	} {
		m, ok := conversations.OptKeyword(tc.body)
		if m.Keyword != tc.keyword || m.OptOut != tc.optOut || m.OnlyIfOptedOut != tc.onlyIf || ok != tc.ok {
			t.Errorf("OptKeyword(%q) = %+v,%v want %q,%v,%v,%v", tc.body, m, ok, tc.keyword, tc.optOut, tc.onlyIf, tc.ok)
		}
	}
}
