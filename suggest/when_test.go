package suggest_test

import (
	"slices"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/suggest"
)

// TestMentions: times, spans and days as replies and customers write them,
// and numbers that are none of these.
func TestMentions(t *testing.T) {
	clock := func(mins ...int) suggest.Mention { return suggest.Mention{Kind: suggest.MentionClock, Minutes: mins} }
	span := func(lo, hi time.Duration) suggest.Mention {
		return suggest.Mention{Kind: suggest.MentionDuration, Min: lo, Max: hi}
	}
	day := func(d suggest.Day) suggest.Mention { return suggest.Mention{Kind: suggest.MentionDay, Day: d} }
	for _, tc := range []struct {
		text string
		want []suggest.Mention
	}{
		{"He'll be there in about an hour.", []suggest.Mention{span(time.Hour, time.Hour)}},
		{"Around 10", []suggest.Mention{clock(600, 1320)}},
		{"by noon", []suggest.Mention{clock(720)}},
		{"half past ten", []suggest.Mention{clock(630, 1350)}},
		{"quarter to 11", []suggest.Mention{clock(645, 1365)}},
		{"at ten thirty", []suggest.Mention{clock(630, 1350)}},
		{"10 AM", []suggest.Mention{clock(600)}},
		{"2:30pm", []suggest.Mention{clock(870)}},
		{"Between 2 PM and 4 p.m.", []suggest.Mention{clock(840), clock(960)}},
		{"He's 10-15 mins out", []suggest.Mention{span(10*time.Minute, 15*time.Minute)}},
		{"llega a las 10 y media de la mañana", []suggest.Mention{clock(630)}},
		{"en media hora", []suggest.Mention{span(30*time.Minute, 30*time.Minute)}},
		{"el jueves a las 5", []suggest.Mention{day(suggest.Day(time.Thursday)), clock(300, 1020)}},
		{"mañana por la mañana", []suggest.Mention{day(suggest.DayTomorrow)}},
		{"can we push it to 5 instead", []suggest.Mention{clock(300, 1020)}},
		{"next week", []suggest.Mention{day(suggest.DayNextWeek)}},
		{"A 200 amp panel, 3 amps", nil},
		{"$150 for the visit, 100% sure", nil},
		{"Call 555-0142", nil},
		{"Gate code 4471, unit 3B", nil},
		{"una hora de llegada", nil},
	} {
		got := suggest.Mentions(tc.text)
		if len(got) != len(tc.want) {
			t.Errorf("%q: got %+v, want %+v", tc.text, got, tc.want)
			continue
		}
		for i, w := range tc.want {
			g := got[i]
			if g.Kind != w.Kind || !slices.Equal(g.Minutes, w.Minutes) || g.Min != w.Min || g.Max != w.Max || g.Day != w.Day {
				t.Errorf("%q: mention %d is %+v, want %+v", tc.text, i, g, w)
			}
		}
	}
	if m := suggest.Mentions("Would 5 PM work?"); len(m) != 1 || !m[0].Question {
		t.Errorf("a time inside a question: got %+v", m)
	}
}
