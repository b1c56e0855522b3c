package suggesttest

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// recorder collects what check reports instead of failing the test.
type recorder struct {
	testing.TB
	msgs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func ok(text string) conversations.Suggestion {
	return conversations.Suggestion{Text: text, Intent: conversations.IntentOther, Confidence: 0.5, Source: "x"}
}

// TestCheckNamesTheRule: each broken rule is reported, by name.
func TestCheckNamesTheRule(t *testing.T) {
	blank, long, dup, intent, conf, nan, src := ok("  "), ok(strings.Repeat("a", 321)), ok("A"), ok("B"), ok("B"), ok("B"), ok("B")
	intent.Intent = "chitchat"
	conf.Confidence = 1.2
	nan.Confidence = math.NaN()
	src.Source = ""
	for rule, ss := range map[string][]conversations.Suggestion{
		ruleCount:      {ok("A")},
		ruleNonEmpty:   {ok("A"), blank},
		ruleLength:     {ok("A"), long},
		ruleDistinct:   {ok("a"), dup},
		ruleIntent:     {ok("A"), intent},
		ruleConfidence: {ok("A"), nan},
		ruleSource:     {ok("A"), src},
	} {
		r := &recorder{}
		check(r, "case", ss)
		if len(r.msgs) != 1 || !strings.Contains(r.msgs[0], rule) {
			t.Errorf("rule %q: reported %q", rule, r.msgs)
		}
	}
	r := &recorder{}
	check(r, "case", []conversations.Suggestion{ok("A"), conf})
	if len(r.msgs) != 1 || !strings.Contains(r.msgs[0], ruleConfidence) {
		t.Errorf("confidence above 1: reported %q", r.msgs)
	}
	r = &recorder{}
	check(r, "case", []conversations.Suggestion{ok("A"), ok("B"), ok("C")})
	if len(r.msgs) != 0 {
		t.Errorf("a valid answer was reported: %q", r.msgs)
	}
}

// TestTimeCheckIsFair: the no-invented-ETA check flags times and minute
// promises, and leaves alone the numbers replies legitimately carry.
func TestTimeCheckIsFair(t *testing.T) {
	for _, s := range []string{"at 3:30", "around 3pm", "by 11 a.m.", "14:05", "in 20 minutes", "10-15 mins away", "5 min"} {
		if !clockTime.MatchString(s) && !minutes.MatchString(s) {
			t.Errorf("%q not flagged", s)
		}
	}
	for _, s := range []string{"a 200 amp panel", "30 amp breaker", "$150", "call 555-0142", "unit 4B", "2 or 3 options", "tomorrow morning", "this afternoon"} {
		if clockTime.MatchString(s) || minutes.MatchString(s) {
			t.Errorf("%q flagged", s)
		}
	}
}
