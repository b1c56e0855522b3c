package twilio

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fieldtalk/fieldtalk/channel"
	"github.com/fieldtalk/fieldtalk/conversations"
)

func FuzzInboundForm(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.form")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("MessageSid=SM1&To=%2B14155550100&From=%2B14155550142&NumMedia=1&MediaUrl0=https%3A%2F%2Fx.example%2Fa")
	f.Add("MessageSid=SM1&To=%2B14155550100&From=%2B14155550142&NumMedia=-1")
	f.Add("MessageSid=SM1&To=%2B14155550100&From=whatsapp%3A%2B14155550142&Body=%ff")
	received := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return // the handler answers 400 before parsing
		}
		in, err := parseInbound(form, "US", received)
		if err != nil {
			if !errors.Is(err, conversations.ErrInvalid) {
				t.Fatalf("rule: a refused form is ErrInvalid; got %v", err)
			}
			return
		}
		if in.Channel != conversations.ChannelSMS || in.ProviderID == "" || !in.ReceivedAt.Equal(received) || in.Tenant != "" {
			t.Fatalf("rule: channel sms, a provider id, the receive time, no tenant yet; got %+v", in)
		}
		for _, n := range []string{in.BusinessNumber, in.From} {
			if again, err := channel.ParsePhone(n, "US"); err != nil || again != n {
				t.Fatalf("rule: numbers are E.164; %q", n)
			}
		}
		if utf8.RuneCountInString(in.Body) > conversations.MaxBodyRunes {
			t.Fatalf("rule: the body is within the limit (Receive cleans its text)")
		}
		if len(in.Media) > conversations.MaxMediaItems {
			t.Fatalf("rule: at most %d media", conversations.MaxMediaItems)
		}
		for _, m := range in.Media {
			if conversations.ValidateMediaURL(m.URL, false) != nil {
				t.Fatalf("rule: media URLs are absolute https; %q", m.URL)
			}
		}
	})
}
