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
	morning := &conversations.JobContext{
		WindowStart: time.Date(2025, time.March, 4, 16, 0, 0, 0, time.UTC), // 10 AM CST
		WindowEnd:   time.Date(2025, time.March, 4, 18, 0, 0, 0, time.UTC), // noon
		TimeZone:    "America/Chicago",
	}
	// Now is 10:10 AM in Chicago, twenty minutes before the ETA.
	now := time.Date(2025, time.March, 4, 16, 10, 0, 0, time.UTC)
	withMsg := func(j *conversations.JobContext, body string) conversations.SuggestRequest {
		return conversations.SuggestRequest{Job: j, Now: now, Messages: []conversations.Message{{Direction: conversations.DirectionInbound, Body: body}}}
	}
	later := func(r conversations.SuggestRequest, d time.Duration) conversations.SuggestRequest {
		r.Now = r.Now.Add(d)
		return r
	}
	nan := sg("B")
	nan.Confidence = math.NaN()
	badIntent := sg("B")
	badIntent.Intent = "smalltalk"

	tests := []struct {
		name string
		req  conversations.SuggestRequest
		ss   []conversations.Suggestion
		rule conversations.SuggestionRule // "" means valid
	}{
		{"valid", withMsg(nil, "hi"), []conversations.Suggestion{sg("A"), sg("B")}, ""},
		{"one", withMsg(nil, "hi"), []conversations.Suggestion{sg("A")}, conversations.SuggestCount},
		{"four", withMsg(nil, "hi"), []conversations.Suggestion{sg("A"), sg("B"), sg("C"), sg("D")}, conversations.SuggestCount},
		{"blank", withMsg(nil, "hi"), []conversations.Suggestion{sg("A"), sg(" \t")}, conversations.SuggestNonEmpty},
		{"bad utf-8", withMsg(nil, "hi"), []conversations.Suggestion{sg("A"), sg("B\xff")}, conversations.SuggestPlainText},
		{"control", withMsg(nil, "hi"), []conversations.Suggestion{sg("A"), sg("B\x00")}, conversations.SuggestPlainText},
		{"newline is fine", withMsg(nil, "hi"), []conversations.Suggestion{sg("A"), sg("B\n– Sarah")}, ""},
		{"321 runes", withMsg(nil, "hi"), []conversations.Suggestion{sg("A"), sg(strings.Repeat("é", 321))}, conversations.SuggestLength},
		{"320 runes", withMsg(nil, "hi"), []conversations.Suggestion{sg("A"), sg(strings.Repeat("é", 320))}, ""},
		{"same text, other case and spacing", withMsg(nil, "hi"), []conversations.Suggestion{sg("See you  soon"), sg("see you soon ")}, conversations.SuggestDistinct},
		{"intent", withMsg(nil, "hi"), []conversations.Suggestion{sg("A"), badIntent}, conversations.SuggestIntent},
		{"NaN confidence", withMsg(nil, "hi"), []conversations.Suggestion{sg("A"), nan}, conversations.SuggestConfidence},
		{"time with no job", withMsg(nil, "when?"), []conversations.Suggestion{sg("A"), sg("He'll be there at 2:30.")}, suggest.RuleGrounded},
		{"time the job lacks", withMsg(noTimes, "when?"), []conversations.Suggestion{sg("A"), sg("Around 3pm")}, suggest.RuleGrounded},
		{"minutes the job lacks", withMsg(noTimes, "when?"), []conversations.Suggestion{sg("A"), sg("He's 10-15 mins out")}, suggest.RuleGrounded},
		{"eta in the job's zone", withMsg(chicago, "when?"), []conversations.Suggestion{sg("Around 10:30 AM"), sg("About 10:30")}, ""},
		{"eta in UTC is not the job's time", withMsg(chicago, "when?"), []conversations.Suggestion{sg("A"), sg("Around 4:30 PM")}, suggest.RuleGrounded},
		{"window", withMsg(chicago, "when?"), []conversations.Suggestion{sg("Between 2 PM and 4 p.m."), sg("2:00–4:00")}, ""},
		{"minutes with an eta", withMsg(chicago, "when?"), []conversations.Suggestion{sg("A"), sg("About 20 minutes away")}, ""},
		{"a time the customer gave, confirmed", withMsg(noTimes, "can he come after 5pm?"), []conversations.Suggestion{sg("A"), sg("Sure, after 5 PM works")}, suggest.RuleGrounded},
		{"a time the customer gave, asked back", withMsg(noTimes, "can he come after 5pm?"), []conversations.Suggestion{sg("A"), sg("Would after 5 PM work? I'll check the schedule.")}, ""},
		{"a time nobody gave, asked", withMsg(noTimes, "can he come later?"), []conversations.Suggestion{sg("A"), sg("Would 6 PM work?")}, suggest.RuleGrounded},
		{"amps are not times", withMsg(noTimes, "hi"), []conversations.Suggestion{sg("A 200 amp panel"), sg("a 30 amp breaker, 3 amps")}, ""},
		{"a phone number is not a time", withMsg(noTimes, "hi"), []conversations.Suggestion{sg("A"), sg("Call 555-0142")}, ""},
		// What a model wrote that the first version of this check let through.
		{"in about an hour, no eta", withMsg(noTimes, "when?"), []conversations.Suggestion{sg("A"), sg("He'll be there in about an hour.")}, suggest.RuleGrounded},
		{"around 10, no eta", withMsg(noTimes, "when?"), []conversations.Suggestion{sg("A"), sg("He should arrive around 10.")}, suggest.RuleGrounded},
		{"by noon, no eta", withMsg(noTimes, "when?"), []conversations.Suggestion{sg("A"), sg("We'll be there by noon")}, suggest.RuleGrounded},
		{"half past ten, no eta", withMsg(noTimes, "when?"), []conversations.Suggestion{sg("A"), sg("See you at half past ten!")}, suggest.RuleGrounded},
		{"100% discount", withMsg(noTimes, "discount?"), []conversations.Suggestion{sg("A"), sg("Good news: 100% discount today!")}, suggest.RuleHonest},
		{"a price", withMsg(noTimes, "hi"), []conversations.Suggestion{sg("$150 for the visit"), sg("B")}, suggest.RuleHonest},
		{"free", withMsg(noTimes, "is the estimate free"), []conversations.Suggestion{sg("A"), sg("Yes, the estimate is free of charge.")}, suggest.RuleHonest},
		{"a refund promised", withMsg(noTimes, "i was billed twice"), []conversations.Suggestion{sg("A"), sg("Sorry! We'll refund the second charge.")}, suggest.RuleHonest},
		{"a refund looked into", withMsg(noTimes, "i was billed twice"), []conversations.Suggestion{sg("A"), sg("Sorry! I'll check the charges and ask the office about a refund.")}, ""},
		{"added to the notes", withMsg(noTimes, "gate code 1234"), []conversations.Suggestion{sg("A"), sg("Thanks! I've added that to the job notes.")}, suggest.RuleHonest},
		{"booked you", withMsg(noTimes, "thursday?"), []conversations.Suggestion{sg("A"), sg("Done, I booked you for Thursday.")}, suggest.RuleHonest},
		{"already cancelled", withMsg(noTimes, "cancel"), []conversations.Suggestion{sg("A"), sg("Your appointment has been cancelled.")}, suggest.RuleHonest},
		{"spanish: cancelled", withMsg(noTimes, "cancelen"), []conversations.Suggestion{sg("A"), sg("Listo, ya cancelado: he cancelado su cita.")}, suggest.RuleHonest},
		// Inside the job's window and near its ETA: honest, in any spelling.
		{"10 AM opens the window", withMsg(morning, "when?"), []conversations.Suggestion{sg("A"), sg("He'll be there at 10 AM or so.")}, ""},
		{"by noon closes it", withMsg(morning, "when?"), []conversations.Suggestion{sg("A"), sg("He'll be there by noon.")}, ""},
		{"3 PM is inside the window", withMsg(chicago, "when?"), []conversations.Suggestion{sg("A"), sg("Around 3 PM works, within your 2 to 4 window.")}, ""},
		{"in words", withMsg(chicago, "when?"), []conversations.Suggestion{sg("A"), sg("He'll be there at ten thirty.")}, ""},
		{"in about twenty minutes with an eta", withMsg(chicago, "when?"), []conversations.Suggestion{sg("A"), sg("He's about 20 minutes out.")}, ""},
		{"in two hours with an eta twenty minutes away", withMsg(chicago, "when?"), []conversations.Suggestion{sg("A"), sg("He'll be there in about two hours.")}, suggest.RuleGrounded},
		{"a stale eta holds no span", later(withMsg(chicago, "when?"), time.Hour), []conversations.Suggestion{sg("A"), sg("About 20 minutes away")}, suggest.RuleGrounded},
		{"today is the job's day", withMsg(chicago, "when?"), []conversations.Suggestion{sg("A"), sg("See you today between 2 and 4 PM!")}, ""},
		{"tomorrow is not", withMsg(chicago, "when?"), []conversations.Suggestion{sg("A"), sg("See you tomorrow between 2 and 4 PM!")}, suggest.RuleGrounded},
		{"spanish time outside the window", withMsg(chicago, "cuando?"), []conversations.Suggestion{sg("A"), sg("Llega a las 6 de la tarde.")}, suggest.RuleGrounded},
		{"spanish time inside the window", withMsg(chicago, "cuando?"), []conversations.Suggestion{sg("A"), sg("Llega entre las 2 y las 4 de la tarde.")}, ""},
		{"spanish span with no eta", withMsg(noTimes, "cuando?"), []conversations.Suggestion{sg("A"), sg("Llega en media hora.")}, suggest.RuleGrounded},
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
			var re *conversations.SuggestionError
			if !errors.As(err, &re) || re.Rule != tt.rule {
				t.Fatalf("got %v, want rule %q", err, tt.rule)
			}
			if errors.Is(err, conversations.ErrInvalid) {
				t.Error("a bad answer must not read as the caller's ErrInvalid")
			}
		})
	}
}
