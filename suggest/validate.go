package suggest

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Rule names one rule of the conversations.Suggester contract.
type Rule string

// The rules Validate checks, in the order it checks them.
const (
	RuleCount      Rule = "between 2 and 3 suggestions"
	RuleNonEmpty   Rule = "non-empty text"
	RulePlainText  Rule = "plain UTF-8 text without control characters"
	RuleLength     Rule = "at most 320 characters"
	RuleDistinct   Rule = "distinct texts"
	RuleIntent     Rule = "a known intent"
	RuleConfidence Rule = "confidence in [0,1]"
	RuleGrounded   Rule = "no arrival time the request lacks"
)

// RuleError reports suggestions that break a rule of the Suggester contract.
// It is not an ErrInvalid: the caller's request was fine, the answer was not.
type RuleError struct {
	Rule   Rule
	Index  int // the offending suggestion; -1 when the list as a whole is wrong
	Detail string
}

func (e *RuleError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("suggest: rule %q broken: %s", e.Rule, e.Detail)
	}
	return fmt.Sprintf("suggest: suggestion %d breaks rule %q: %s", e.Index, e.Rule, e.Detail)
}

// Validate checks suggestions against the conversations.Suggester contract
// for req: their number, non-empty distinct plain texts of at most
// MaxSuggestionLength characters, known intents, confidences in [0,1], and
// that no text states an arrival time the request does not contain. It
// returns the first broken rule as a *RuleError, or nil.
//
// The time check is deliberately narrow, so it never rejects an honest
// reply: it looks for clock times ("2:30", "3 pm") and "N minutes" promises,
// and accepts a clock time that matches the job's ETA or window (in the job's
// time zone) or one mentioned in any message of the request, and a minutes
// promise only when the job has an ETA or a message speaks of minutes.
func Validate(req conversations.SuggestRequest, ss []conversations.Suggestion) error {
	if n := len(ss); n < conversations.MinSuggestions || n > conversations.MaxSuggestions {
		return &RuleError{Rule: RuleCount, Index: -1, Detail: fmt.Sprintf("got %d", n)}
	}
	var g *grounding
	seen := make(map[string]int, len(ss))
	for i, s := range ss {
		if strings.TrimSpace(s.Text) == "" {
			return &RuleError{Rule: RuleNonEmpty, Index: i, Detail: "blank text"}
		}
		if !utf8.ValidString(s.Text) {
			return &RuleError{Rule: RulePlainText, Index: i, Detail: "not valid UTF-8"}
		}
		for _, r := range s.Text {
			if unicode.IsControl(r) && r != '\n' {
				return &RuleError{Rule: RulePlainText, Index: i, Detail: fmt.Sprintf("control character %U", r)}
			}
		}
		if n := utf8.RuneCountInString(s.Text); n > conversations.MaxSuggestionLength {
			return &RuleError{Rule: RuleLength, Index: i, Detail: fmt.Sprintf("%d characters", n)}
		}
		key := Fold(s.Text)
		if j, ok := seen[key]; ok {
			return &RuleError{Rule: RuleDistinct, Index: i, Detail: fmt.Sprintf("same text as suggestion %d", j)}
		}
		seen[key] = i
		if !s.Intent.Valid() {
			return &RuleError{Rule: RuleIntent, Index: i, Detail: fmt.Sprintf("unknown intent %q", s.Intent)}
		}
		if math.IsNaN(s.Confidence) || s.Confidence < 0 || s.Confidence > 1 {
			return &RuleError{Rule: RuleConfidence, Index: i, Detail: fmt.Sprintf("confidence %v", s.Confidence)}
		}
		if g == nil {
			g = newGrounding(req)
		}
		if bad, ok := g.unsupported(s.Text); ok {
			return &RuleError{Rule: RuleGrounded, Index: i, Detail: fmt.Sprintf("states %q, which the request does not contain", bad)}
		}
	}
	return nil
}

// Fold is the key under which two suggestion texts count as the same:
// case-insensitive, with runs of white space collapsed.
func Fold(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

var (
	// "2:30", "14:05", "2:30pm", "2:30 p.m."
	clockColon = regexp.MustCompile(`(?i)\b([01]?\d|2[0-3]):([0-5]\d)(?:\s*([ap])\.?m\.?)?`)
	// "3 pm", "11am", "9 a.m." (not "3 amps", not "200 amp")
	clockMeridiem = regexp.MustCompile(`(?i)\b(1[0-2]|0?[1-9])\s*([ap])\.?m\b\.?`)
	// "20 minutes", "10-15 mins", "5 min"
	minutesPromise = regexp.MustCompile(`(?i)\b\d{1,3}\s*(?:(?:-|to)\s*\d{1,3}\s*)?min(?:ute)?s?\b`)
)

// grounding knows which arrival facts a request supports.
type grounding struct {
	minutes     map[int]bool // minutes past midnight the request mentions
	allowRelDur bool         // "in 20 minutes" is supported
}

func newGrounding(req conversations.SuggestRequest) *grounding {
	g := &grounding{minutes: map[int]bool{}}
	if j := req.Job; j != nil {
		loc := time.UTC
		if l, err := time.LoadLocation(j.TimeZone); err == nil {
			loc = l
		}
		for _, t := range []time.Time{j.ETA, j.WindowStart, j.WindowEnd} {
			if !t.IsZero() {
				lt := t.In(loc)
				g.minutes[lt.Hour()*60+lt.Minute()] = true
			}
		}
		g.allowRelDur = !j.ETA.IsZero()
	}
	for _, m := range req.Messages {
		for _, c := range clockTimes(m.Body) {
			for _, v := range c.candidates() {
				g.minutes[v] = true
			}
		}
		if minutesPromise.MatchString(m.Body) {
			g.allowRelDur = true
		}
	}
	return g
}

// unsupported returns the first time phrase in text that the request does
// not support.
func (g *grounding) unsupported(text string) (string, bool) {
	for _, c := range clockTimes(text) {
		ok := false
		for _, v := range c.candidates() {
			if g.minutes[v] {
				ok = true
				break
			}
		}
		if !ok {
			return c.text, true
		}
	}
	if !g.allowRelDur {
		if m := minutesPromise.FindString(text); m != "" {
			return m, true
		}
	}
	return "", false
}

// clockTime is a time of day found in text; meridiem is 'a', 'p' or 0 when
// the text did not say.
type clockTime struct {
	text     string
	hour     int
	minute   int
	meridiem byte
}

// candidates returns the minutes past midnight the time can mean.
func (c clockTime) candidates() []int {
	h := c.hour
	switch c.meridiem {
	case 'a':
		if h == 12 {
			h = 0
		}
		return []int{h*60 + c.minute}
	case 'p':
		if h < 12 {
			h += 12
		}
		return []int{h*60 + c.minute}
	}
	if h >= 1 && h <= 12 {
		return []int{(h%12)*60 + c.minute, (h%12+12)*60 + c.minute}
	}
	return []int{h*60 + c.minute}
}

func clockTimes(s string) []clockTime {
	var out []clockTime
	taken := func(lo, hi int, spans [][2]int) bool {
		for _, sp := range spans {
			if lo < sp[1] && sp[0] < hi {
				return true
			}
		}
		return false
	}
	var spans [][2]int
	for _, m := range clockColon.FindAllStringSubmatchIndex(s, -1) {
		h, _ := strconv.Atoi(s[m[2]:m[3]])
		mi, _ := strconv.Atoi(s[m[4]:m[5]])
		c := clockTime{text: s[m[0]:m[1]], hour: h, minute: mi}
		if m[6] >= 0 {
			c.meridiem = lowerByte(s[m[6]])
		}
		out = append(out, c)
		spans = append(spans, [2]int{m[0], m[1]})
	}
	for _, m := range clockMeridiem.FindAllStringSubmatchIndex(s, -1) {
		if taken(m[0], m[1], spans) {
			continue
		}
		h, _ := strconv.Atoi(s[m[2]:m[3]])
		out = append(out, clockTime{text: s[m[0]:m[1]], hour: h, meridiem: lowerByte(s[m[4]])})
	}
	return out
}

func lowerByte(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}
