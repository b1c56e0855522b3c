package conversations

import "strings"

// ValidE164 reports whether s is a phone number in E.164 form: "+", a
// non-zero digit, then 6 to 14 more digits. The Service takes numbers in this
// form only; package channel parses and normalises what people type.
func ValidE164(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return false
	}
	for _, c := range s[2:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Opt-out and opt-in keywords: a customer's whole message, trimmed, any case.
var (
	optOutKeywords = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
	optInKeywords  = []string{"START", "UNSTOP"}
)

// OptKeyword reports whether an inbound SMS body is an opt-out or opt-in
// keyword. Only the whole body counts: "STOP" opts out, "Stop please" does
// not. keyword is the upper-cased word.
func OptKeyword(body string) (keyword string, optOut, ok bool) {
	w := strings.ToUpper(strings.TrimSpace(body))
	for _, k := range optOutKeywords {
		if w == k {
			return k, true, true
		}
	}
	for _, k := range optInKeywords {
		if w == k {
			return k, false, true
		}
	}
	return "", false, false
}
