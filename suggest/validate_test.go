package suggest_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/suggest"
)

func sg(text string) conversations.Suggestion {
	return conversations.Suggestion{Text: text, Intent: conversations.IntentOther, Confidence: 0.5, Source: "test"}
}

func TestValidate(t *testing.T) {
	chicago := &conversations.JobContext{
		ETA:         time.Date(2025, time.March, 4, 16, 30, 0, 0, time.UTC), // 10:30 AM CST
		WindowStart: time.Date(2025, time.March, 4, 20, 0, 0, 0, time.UTC),  // 2 PM
		WindowEnd:   time.Date(2025, time.March, 4, 22, 0, 0, 0, time.UTC),  // 4 PM
		TimeZone:    "America/Chicago",
	}
	noTimes := &conversations.JobContext{TimeZone: "America/Chicago"}
	withMsg := func(j *conversations.JobContext, body string) conversations.SuggestRequest {
		return conversations.SuggestRequest{Job: j, Messages: []conversations.Message{{Direction: conversations.DirectionInbound, Body: body}}}
	}
	nan := sg("B")
	nan.Confidence = math.NaN()
	badIntent := sg("B")
	badIntent.Intent = "smalltalk"

	tests := []struct {
		name string
		req  conversations.SuggestRequest
		ss   []conversations.Suggestion
		rule suggest.Rule // "" means valid
	}{
		{"valid", withMsg(nil, "hi"), []conversations.Suggestion{sg("A"), sg("B")}, ""},
		{"one", withMsg(nil, "hi"), []conversations.Suggestion{sg("A")}, suggest.RuleCount},
		{"four", withMsg(nil, "hi"), []conversations.Suggestion{sg("A"), sg("B"), sg("C"), sg("D")}, suggest.RuleCount},
		{"blank", withMsg(nil, "hi"), []conversations.Suggestion{sg("A"), sg(" \t")}, suggest.RuleNonEmpty},
		{"bad utf-8", withMsg(nil, "hi"), []conversations.Suggestion{sg("A"), sg("B\xff")}, suggest.RulePlainText},
		{"control", withMsg(nil, "hi"), []conversations.Suggestion{sg("A"), sg("B\x00")}, suggest.RulePlainText},
		{"newline is fine", withMsg(nil, "hi"), []conversations.Suggestion{sg("A"), sg("B\n– Sarah")}, ""},
		{"321 runes", withMsg(nil, "hi"), []conversations.Suggestion{sg("A"), sg(strings.Repeat("é", 321))}, suggest.RuleLength},
		{"320 runes", withMsg(nil, "hi"), []conversations.Suggestion{sg("A"), sg(strings.Repeat("é", 320))}, ""},
		{"same text, other case and spacing", withMsg(nil, "hi"), []conversations.Suggestion{sg("See you  soon"), sg("see you soon ")}, suggest.RuleDistinct},
		{"intent", withMsg(nil, "hi"), []conversations.Suggestion{sg("A"), badIntent}, suggest.RuleIntent},
		{"NaN confidence", withMsg(nil, "hi"), []conversations.Suggestion{sg("A"), nan}, suggest.RuleConfidence},
		{"time with no job", withMsg(nil, "when?"), []conversations.Suggestion{sg("A"), sg("He'll be there at 2:30.")}, suggest.RuleGrounded},
		{"time the job lacks", withMsg(noTimes, "when?"), []conversations.Suggestion{sg("A"), sg("Around 3pm")}, suggest.RuleGrounded},
		{"minutes the job lacks", withMsg(noTimes, "when?"), []conversations.Suggestion{sg("A"), sg("He's 10-15 mins out")}, suggest.RuleGrounded},
		{"eta in the job's zone", withMsg(chicago, "when?"), []conversations.Suggestion{sg("Around 10:30 AM"), sg("About 10:30")}, ""},
		{"eta in UTC is not the job's time", withMsg(chicago, "when?"), []conversations.Suggestion{sg("A"), sg("Around 4:30 PM")}, suggest.RuleGrounded},
		{"window", withMsg(chicago, "when?"), []conversations.Suggestion{sg("Between 2 PM and 4 p.m."), sg("2:00–4:00")}, ""},
		{"minutes with an eta", withMsg(chicago, "when?"), []conversations.Suggestion{sg("A"), sg("About 20 minutes away")}, ""},
		{"time the customer gave", withMsg(noTimes, "can he come after 5pm?"), []conversations.Suggestion{sg("A"), sg("Sure, after 5 PM works")}, ""},
		{"amps are not times", withMsg(noTimes, "hi"), []conversations.Suggestion{sg("A 200 amp panel"), sg("a 30 amp breaker, 3 amps")}, ""},
		{"prices are not times", withMsg(noTimes, "hi"), []conversations.Suggestion{sg("$150 for the visit"), sg("Call 555-0142")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := suggest.Validate(tt.req, tt.ss)
			if tt.rule == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var re *suggest.RuleError
			if !errors.As(err, &re) || re.Rule != tt.rule {
				t.Fatalf("got %v, want rule %q", err, tt.rule)
			}
			if errors.Is(err, conversations.ErrInvalid) {
				t.Error("a bad answer must not read as the caller's ErrInvalid")
			}
		})
	}
}
