package channel_test

import (
	"errors"
	"fmt"

	"github.com/fieldtalk/fieldtalk/channel"
	"github.com/fieldtalk/fieldtalk/conversations"
)

func ExampleParsePhone() {
	for _, raw := range []string{"(555) 123-4567", "1-555-123-4567", "+44 (0)20 7946 0958", "0044 20 7946 0958"} {
		e164, err := channel.ParsePhone(raw, "US")
		fmt.Println(e164, err)
	}
	_, err := channel.ParsePhone("555-1234", "US")
	fmt.Println(errors.Is(err, conversations.ErrInvalid))
	// Output:
	// +15551234567 <nil>
	// +15551234567 <nil>
	// +442079460958 <nil>
	// +442079460958 <nil>
	// true
}

func ExampleCountSegments() {
	for _, body := range []string{
		"Running 10 min late, sorry!",
		"Total is €120 [incl. parts]",
		"Thanks! 👍",
	} {
		s, _ := channel.CountSegments(body)
		fmt.Printf("%s: %d segment(s), %d characters, %d units\n", s.Encoding, s.Count, s.Characters, s.Units)
	}
	// Output:
	// GSM-7: 1 segment(s), 27 characters, 27 units
	// GSM-7: 1 segment(s), 27 characters, 30 units
	// UCS-2: 1 segment(s), 9 characters, 10 units
}
