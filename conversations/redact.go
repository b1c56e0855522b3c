package conversations

import (
	"log/slog"
	"regexp"
	"strings"
)

// Logs never carry a message's body, and carry phone numbers only masked:
// a log line is read by more people, kept longer and copied further than the
// customer data it describes. These helpers are how the library and its
// hosts keep to that.

// MaskPhone returns a phone number with all but its last four digits
// masked ("+15005550999" → "+*******0999"), so a log can still tell two
// numbers apart.
func MaskPhone(number string) string {
	digits := 0
	for _, r := range number {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	var b strings.Builder
	b.Grow(len(number))
	seen := 0
	for _, r := range number {
		switch {
		case r >= '0' && r <= '9':
			seen++
			if seen <= digits-4 {
				b.WriteByte('*')
				continue
			}
			b.WriteRune(r)
		case r == '+':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// phoneLike is a run of digits a phone number could be: seven or more,
// possibly punctuated.
var phoneLike = regexp.MustCompile(`\+?\(?\d(?:[ ().-]{0,2}\d){6,}`)

// RedactPhones masks what looks like a phone number in s (MaskPhone): a run
// of at least seven digits after a "+", or of at least ten without one, so
// dates and small counts stay readable. Use it on text bound for a log that
// may quote input, such as an error's message.
func RedactPhones(s string) string {
	return phoneLike.ReplaceAllStringFunc(s, func(m string) string {
		digits := 0
		for i := 0; i < len(m); i++ {
			if m[i] >= '0' && m[i] <= '9' {
				digits++
			}
		}
		if digits >= 10 || (strings.HasPrefix(m, "+") && digits >= 7) {
			return MaskPhone(m)
		}
		return m
	})
}

// ErrorAttr is the log attribute "error" for err, with phone numbers
// masked (RedactPhones): an error's text may quote the input it refused.
func ErrorAttr(err error) slog.Attr {
	if err == nil {
		return slog.Any("error", nil)
	}
	return slog.String("error", RedactPhones(err.Error()))
}
