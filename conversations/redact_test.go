package conversations_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/fieldtalk/fieldtalk/conversations"
)

func TestMaskPhoneAndRedactPhones(t *testing.T) {
	assert.Equal(t, "+*******0999", conversations.MaskPhone("+15005550999"))
	for in, want := range map[string]string{
		"conversations: +15005550999 texted STOP on 2026-11-27":       "conversations: +*******0999 texted STOP on 2026-11-27",
		`channel: invalid phone number "(500) 555-0199 x": too short`: `channel: invalid phone number "******0199 x": too short`,
		"thread 01a2521d-595e-7c70-9425-ce14a51abe87 has 3 messages":  "thread 01a2521d-595e-7c70-9425-ce14a51abe87 has 3 messages",
		"store: draft d1 is at version 12, not 11":                    "store: draft d1 is at version 12, not 11",
		"to +44 20 7946 0958 and 5005550123":                          "to +********0958 and ******0123",
	} {
		assert.Equal(t, want, conversations.RedactPhones(in), "RedactPhones(%q)", in)
	}
}
