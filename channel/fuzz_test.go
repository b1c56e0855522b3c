package channel_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fieldtalk/fieldtalk/channel"
	"github.com/fieldtalk/fieldtalk/conversations"
)

func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{
		"(555) 123-4567", "555.123.4567", "1-555-123-4567", "+44 20 7946 0958", "0044 20 7946 0958",
		"+44 (0)20 7946 0958", "011 44 20 7946 0958", "020 7946 0958", "tel:+15005550006", "+", "00", "",
		"+1 911 555 1234", "+999 1", "++1", "(0)", "+44 0 0",
	} {
		f.Add(s, "US")
		f.Add(s, "GB")
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		got, err := channel.ParsePhone(raw, region)
		if err != nil {
			var pe *channel.PhoneError
			if !errors.As(err, &pe) || !errors.Is(err, conversations.ErrInvalid) {
				t.Fatalf("rule: every refusal is a *PhoneError wrapping ErrInvalid; got %T %v", err, err)
			}
			return
		}
		if len(got) < 8 || len(got) > 16 || got[0] != '+' || strings.Trim(got[1:], "0123456789") != "" {
			t.Fatalf("rule: a result is '+' and 7 to 15 digits; ParsePhone(%q) = %q", raw, got)
		}
		if !conversations.ValidE164(got) {
			t.Fatalf("rule: a result is what conversations accepts as E.164; ParsePhone(%q) = %q", raw, got)
		}
		for _, r := range []string{region, "US", "GB", "AU"} {
			again, err := channel.ParsePhone(got, r)
			if err != nil && r == region {
				t.Fatalf("rule: a result re-parses; ParsePhone(%q, %q) = %v", got, r, err)
			}
			if err == nil && again != got {
				t.Fatalf("rule: a result re-parses to itself in any region; %q became %q in %s", got, again, r)
			}
		}
	})
}

func FuzzSegments(f *testing.F) {
	for _, s := range []string{
		"", "hello", strings.Repeat("a", 160), strings.Repeat("€", 81), "`", "👍", strings.Repeat("ą", 71),
		strings.Repeat("a", 152) + "[", "\xff", strings.Repeat("🙂", 40),
	} {
		f.Add(s, "x")
	}
	f.Fuzz(func(t *testing.T, body, more string) {
		s, err := channel.CountSegments(body)
		if err != nil {
			if !errors.Is(err, conversations.ErrInvalid) {
				t.Fatalf("rule: refusals wrap ErrInvalid; got %v", err)
			}
			if utf8.ValidString(body) && utf8.RuneCountInString(body) <= conversations.MaxBodyRunes {
				t.Fatalf("rule: only invalid UTF-8 or over-long bodies are refused; %q was", body)
			}
			return
		}
		if s.Characters != utf8.RuneCountInString(body) {
			t.Fatalf("rule: Characters counts code points; %d for %q", s.Characters, body)
		}
		if (s.Count == 0) != (body == "") {
			t.Fatalf("rule: only an empty body takes no segment; %+v", s)
		}
		if s.Units < s.Characters || s.Units > 2*s.Characters {
			t.Fatalf("rule: each character takes one or two units; %+v", s)
		}
		single, part := 160, 153
		if s.Encoding == channel.UCS2 {
			single, part = 70, 67
		}
		if s.Count == 1 && s.Units > single {
			t.Fatalf("rule: one segment holds at most %d units; %+v", single, s)
		}
		if s.Count > 1 && (s.Units <= single || s.Count*part < s.Units || (s.Count-1)*(part-1) >= s.Units) {
			t.Fatalf("rule: parts are filled greedily with %d units each; %+v", part, s)
		}
		// Adding text never makes a message cheaper.
		longer := body + more
		if l, err := channel.CountSegments(longer); err == nil && l.Count < s.Count {
			t.Fatalf("rule: segment count is monotone; %q takes %d, %q takes %d", body, s.Count, longer, l.Count)
		}
		// And neither does any prefix cost more.
		for i := range body {
			if p, _ := channel.CountSegments(body[:i]); p.Count > s.Count {
				t.Fatalf("rule: segment count is monotone; prefix %q takes %d > %d", body[:i], p.Count, s.Count)
			}
		}
	})
}
