package channel_test

import (
	"errors"
	"testing"

	"github.com/fieldtalk/fieldtalk/channel"
	"github.com/fieldtalk/fieldtalk/conversations"
)

func TestParsePhone(t *testing.T) {
	tests := []struct {
		raw, region, want string
	}{
		{"(555) 123-4567", "US", "+15551234567"},
		{"555.123.4567", "US", "+15551234567"},
		{"1-555-123-4567", "US", "+15551234567"},
		{"15551234567", "", "+15551234567"},
		{"555 123 4567", "CA", "+15551234567"},
		{"+1 (415) 555-0134", "GB", "+14155550134"},
		{"tel:+14155550134", "US", "+14155550134"},
		{"  +1 415 555 0134  ", "US", "+14155550134"},
		{"+15005550006", "US", "+15005550006"}, // Twilio's magic test number
		{"+44 20 7946 0958", "US", "+442079460958"},
		{"0044 20 7946 0958", "US", "+442079460958"},
		{"011 44 20 7946 0958", "US", "+442079460958"},
		{"+44 (0)20 7946 0958", "US", "+442079460958"},
		{"+44 020 7946 0958", "US", "+442079460958"},
		{"020 7946 0958", "GB", "+442079460958"},
		{"07700 900123", "gb", "+447700900123"},
		{"0011 1 415 555 0134", "AU", "+14155550134"},
		{"(02) 9374 4000", "AU", "+61293744000"},
		{"06 12 34 56 78", "FR", "+33612345678"},
		{"+39 06 6982 1234", "US", "+390669821234"}, // Italy keeps its 0
		{"030/1234567", "DE", "+49301234567"},
		{"+683 4002", "US", "+6834002"}, // Niue: four-digit numbers
		{"+1\u00a0415\u2013555\u20130134", "US", "+14155550134"},
	}
	for _, tt := range tests {
		got, err := channel.ParsePhone(tt.raw, tt.region)
		if err != nil {
			t.Errorf("ParsePhone(%q, %q): unexpected error %v", tt.raw, tt.region, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParsePhone(%q, %q) = %q, want %q", tt.raw, tt.region, got, tt.want)
		}
		again, err := channel.ParsePhone(got, tt.region)
		if err != nil || again != got {
			t.Errorf("ParsePhone(%q) must re-parse to itself, got %q, %v", got, again, err)
		}
	}
}

func TestParsePhoneRejects(t *testing.T) {
	tests := []struct {
		name, raw, region string
	}{
		{"empty", "", "US"},
		{"blank", "   ", "US"},
		{"letters", "555-CALL-NOW", "US"},
		{"email", "bob@example.com", "US"},
		{"too short NANP", "555-1234", "US"},
		{"too long NANP", "1-555-123-45678", "US"},
		{"area code starts with 1", "(155) 123-4567", "US"},
		{"area code starts with 0", "+1 055 123 4567", "US"},
		{"N11 area code", "+1 911 555 1234", "US"},
		{"plus in the middle", "555+1234567", "US"},
		{"unknown country code", "+999 1234 5678", "US"},
		{"over 15 digits", "+44 1234 5678 9012 3456", "US"},
		{"UK too short", "+44 20 7946", "US"},
		{"under 7 digits in all", "+20 1234", "US"},
		{"double trunk zero", "+44 00 7946 0958 1", "US"},
		{"only punctuation", "()-.", "US"},
		{"unknown region", "020 7946 0958", "XX"},
		{"huge input", string(make([]byte, 200)), "US"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := channel.ParsePhone(tt.raw, tt.region)
			if err == nil {
				t.Fatalf("ParsePhone(%q) = %q, want an error", tt.raw, got)
			}
			if !errors.Is(err, conversations.ErrInvalid) {
				t.Errorf("error %v must wrap conversations.ErrInvalid", err)
			}
			var pe *channel.PhoneError
			if !errors.As(err, &pe) {
				t.Errorf("error %v must be a *channel.PhoneError", err)
			} else if pe.Reason == "" {
				t.Errorf("PhoneError must say why")
			}
		})
	}
}
