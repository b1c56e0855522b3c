package conversations_test

import (
	"errors"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

func TestQuietHoursNext(t *testing.T) {
	night := conversations.QuietHours{Start: "21:00", End: "08:00", TimeZone: "America/Chicago"}
	lunch := conversations.QuietHours{Start: "12:00", End: "13:30", TimeZone: "UTC"}
	chicago, _ := time.LoadLocation("America/Chicago")
	at := func(loc *time.Location, h, m int) time.Time { return time.Date(2026, 11, 27, h, m, 0, 0, loc) }
	for _, tc := range []struct {
		name string
		q    conversations.QuietHours
		t    time.Time
		want time.Time
	}{
		{"daytime goes now", night, at(chicago, 15, 0), at(chicago, 15, 0)},
		{"late evening waits for tomorrow morning", night, at(chicago, 22, 15), time.Date(2026, 11, 28, 8, 0, 0, 0, chicago)},
		{"early morning waits for this morning", night, at(chicago, 6, 59), at(chicago, 8, 0)},
		{"the window's end is open", night, at(chicago, 8, 0), at(chicago, 8, 0)},
		{"the window's start is quiet", night, at(chicago, 21, 0), time.Date(2026, 11, 28, 8, 0, 0, 0, chicago)},
		{"a same-day window", lunch, at(time.UTC, 12, 45), at(time.UTC, 13, 30)},
		{"none", conversations.QuietHours{}, at(time.UTC, 3, 0), at(time.UTC, 3, 0)},
	} {
		if got := tc.q.Next(tc.t); !got.Equal(tc.want) {
			t.Errorf("%s: Next(%v) = %v, want %v", tc.name, tc.t, got, tc.want)
		}
	}
}

func TestQuietHoursValidate(t *testing.T) {
	for _, q := range []conversations.QuietHours{
		{Start: "9pm", End: "08:00", TimeZone: "UTC"},
		{Start: "21:00", End: "24:00", TimeZone: "UTC"},
		{Start: "21:00", End: "21:00", TimeZone: "UTC"},
		{Start: "21:00", End: "08:00", TimeZone: "Mars/Olympus"},
		{Start: "21:00", End: "08:00"},
		{Start: "21:00"},
	} {
		if err := q.Validate(); !errors.Is(err, conversations.ErrInvalid) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalid", q, err)
		}
	}
	if err := (conversations.QuietHours{Start: "21:00", End: "08:00", TimeZone: "America/New_York"}).Validate(); err != nil {
		t.Errorf("a valid window: %v", err)
	}
}
