package rules_test

import (
	"context"
	"fmt"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/suggest/rules"
)

func Example() {
	// 9:05 AM in Chicago; the technician's ETA is 10:30 AM.
	clock := func() time.Time { return time.Date(2025, time.March, 4, 15, 5, 0, 0, time.UTC) }
	s, err := rules.New(rules.Config{}, rules.WithClock(clock))
	if err != nil {
		panic(err)
	}
	req := conversations.SuggestRequest{
		Messages: []conversations.Message{
			{Direction: conversations.DirectionInbound, Body: "hey when r u guys coming??"},
		},
		Job: &conversations.JobContext{
			ETA:        time.Date(2025, time.March, 4, 16, 30, 0, 0, time.UTC),
			Technician: "Mike Alvarez",
			Customer:   conversations.Contact{Name: "Maria Lopez"},
			Business:   "Birchwood Plumbing",
			TimeZone:   "America/Chicago",
		},
		Author: conversations.Staff{Name: "Sarah Kim"},
	}
	ss, err := s.Suggest(context.Background(), req)
	if err != nil {
		panic(err)
	}
	for _, sg := range ss {
		fmt.Printf("[%s %.2f] %s\n", sg.Intent, sg.Confidence, sg.Text)
	}
	// Output:
	// [eta 0.90] Hi Maria, Mike will be there today around 10:30 AM. I'll let you know if anything changes. – Sarah
	// [eta 0.85] Mike's current ETA is today around 10:30 AM. We'll text you if anything changes. – Sarah
	// [eta 0.80] Thanks for checking in, Maria! You're on the schedule, and the arrival estimate is today around 10:30 AM. – Sarah
}

// An emergency with nothing but the customer's text: help is arranged, a
// safety line matches the danger, and every suggestion is urgent.
func Example_emergency() {
	s, err := rules.New(rules.Config{})
	if err != nil {
		panic(err)
	}
	req := conversations.SuggestRequest{
		Messages: []conversations.Message{
			{Direction: conversations.DirectionInbound, Body: "SMELL GAS IN THE BASEMENT what do i do"},
		},
	}
	ss, err := s.Suggest(context.Background(), req)
	if err != nil {
		panic(err)
	}
	for _, sg := range ss {
		fmt.Printf("urgent=%v %s\n", sg.Urgent, sg.Text)
	}
	// Output:
	// urgent=true We're on it — help is being arranged right now. If you smell gas, leave the house now and call 911 or your gas company from outside.
	// urgent=true We're arranging for someone to get to you as fast as possible. If you smell gas, leave the house now and call 911 or your gas company from outside. I'll call you right back.
	// urgent=true Thank you for telling us. We're treating this as an emergency and arranging help now. Can I call you right away?
}
