package conversations

import (
	"slices"
	"strings"
	"unicode"
)

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

// Opt-out and opt-in keywords, as the SMS provider's defaults have them: a
// customer's whole message, in any case, without the spaces and punctuation
// around it. YES opts back in only a number that is opted out: to anyone
// else it is an ordinary answer.
var (
	optOutKeywords = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
	optInKeywords  = []string{"START", "UNSTOP"}
)

// keywordYes is the opt-in keyword that counts only for a number opted out.
const keywordYes = "YES"

// OptOutByCarrier is the Keyword of an opt-out the provider reported (the
// carrier refused a message because the number opted out, Twilio's 21610)
// rather than a word the customer texted.
const OptOutByCarrier = "PROVIDER"

// OptKeywordMatch is an inbound SMS that is an opt keyword.
type OptKeywordMatch struct {
	Keyword string // upper-cased
	OptOut  bool   // an opt-out; else an opt-in
	// OnlyIfOptedOut: an opt-in that counts only for a number opted out
	// (YES); otherwise the message is an ordinary one.
	OnlyIfOptedOut bool
}

// OptKeyword reports whether an inbound SMS body is an opt-out or opt-in
// keyword. Only the whole body counts, trimmed of spaces and punctuation
// and in any case: "STOP", " stop! " and "Stop." opt out, "Stop please" and
// "please cancel my appointment" do not.
func OptKeyword(body string) (OptKeywordMatch, bool) {
	w := strings.ToUpper(strings.TrimFunc(body, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }))
	switch {
	case slices.Contains(optOutKeywords, w):
		return OptKeywordMatch{Keyword: w, OptOut: true}, true
	case slices.Contains(optInKeywords, w):
		return OptKeywordMatch{Keyword: w}, true
	case w == keywordYes:
		return OptKeywordMatch{Keyword: w, OnlyIfOptedOut: true}, true
	}
	return OptKeywordMatch{}, false
}
