package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The tour is the README's first command: it must run, tell the whole
// story, and tell it the same way every time.
func TestTour(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("tour failed: %v\n%s", err, out.String())
	}
	got := out.String()
	story := []string{
		// A customer texts; a repeated webhook is one message.
		`[Tom's phone] new message "Hi, when will the tech get here?" (badge 1)`,
		"answers 200 and 200; messages in Pat's thread: 1",
		"Tom's inbox (badge 1):",
		// Suggestions appear, from the job's ETA.
		"1. [eta] Hi Pat, I'll be there today around 9:10 AM UTC.",
		// The reply goes sent, then delivered, with times.
		"the reply is queued at 08:02:20",
		"was sent (badge 0)",
		"was delivered (badge 0)",
		"the reply: delivered (sent 08:02:24, delivered 08:02:29)",
		// What Tom did with the suggestions is counted.
		"suggestion feedback: eta from rules, 3 offered: 33% used, 0% edited, 0% dismissed",
		// An offline draft sent three times goes out once.
		"Tom's drafts, on every device he uses: 1",
		"three sends, 1 message; Twilio was asked to send it 1 time; Tom's drafts: 0",
		// The dispatcher messages the technician.
		`[Tom's phone] new message "Do you have the 40 gal unit on the truck?" (badge 1)`,
		`[Dana's phone] new message "Yes, picked it up at 7."`,
		// An escalation reaches the dispatcher, urgent.
		`[Dana's phone] URGENT new message "Burst pipe in the basement`,
		// A workflow email goes out and is delivered.
		"SendGrid accepted an email from office@acme-plumbing.example to pat.lee@example.com",
		"the email was delivered at 11:30:40",
		"11:30 system   email delivered",
		"Pat's activity timeline in the CRM has 4 entries.",
		// The unassigned technician sees none of it.
		"Tara's inbox (badge 0): empty",
		"opening Pat's thread anyway: forbidden",
		"texting into it: forbidden",
		"notifications on Tara's phone today: 0",
	}
	at := 0
	for _, want := range story {
		i := strings.Index(got[at:], want)
		if i < 0 {
			t.Fatalf("the transcript lacks %q after what came before it:\n%s", want, got)
		}
		at += i + len(want)
	}
	if strings.Contains(got, "[Tara's phone]") {
		t.Errorf("Tara's phone showed something:\n%s", got)
	}

	var again bytes.Buffer
	if err := run(context.Background(), &again); err != nil {
		t.Fatalf("second tour failed: %v", err)
	}
	if again.String() != got {
		t.Errorf("the tour told a different story the second time:\n--- first\n%s\n--- second\n%s", got, again.String())
	}
}
