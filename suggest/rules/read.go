package rules

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/suggest"
)

// maxTopicRunes bounds what an "other" reply quotes of the customer's words.
const maxTopicRunes = 40

// readText fills the facts that come from the customer's own words: the day
// or time they proposed (which a reply may only ask back), whether it
// differs from the job's, what an unanswerable question is about, and the
// kind of complaint or access detail.
func (s *Suggester) readText(f *facts, cls classification, req conversations.SuggestRequest, now time.Time, lang *language) {
	var day, clk *suggest.Mention
	for i := range cls.mentions {
		m := &cls.mentions[i]
		switch {
		case m.Kind == suggest.MentionDay && day == nil:
			day = m
		case m.Kind == suggest.MentionClock && clk == nil:
			clk = m
		}
	}
	if day != nil || clk != nil {
		var parts []string
		if day != nil {
			parts = append(parts, strings.TrimSpace(lang.dayName(day.Day)))
		}
		if clk != nil {
			word := "at"
			if day == nil {
				word = "clockalone" // "Would 5 PM work?", "¿Le funcionaría a las 5 PM?"
			}
			parts = append(parts, lang.clockAt(word, proposedClock(clk.Minutes), time.UTC))
		}
		f.slot = strings.Join(parts, " ")
		if req.Job != nil {
			loc, _ := s.location(req.Job.TimeZone)
			g := suggest.NewGrounds(req.Job, loc, now)
			for _, m := range []*suggest.Mention{day, clk} {
				if m != nil && !g.Holds(*m) {
					f.mismatch = true
				}
			}
		}
	}
	has := func(words ...string) bool {
		for _, t := range cls.toks {
			for _, w := range words {
				if t == w {
					return true
				}
			}
		}
		return false
	}
	f.correction = has("correction", "corrected", "wrong", "actually", "correct")
	f.billing = has("charged", "billed", "charge", "charges", "twice", "invoice", "bill")
	f.noise = has("loud", "noisy", "noise", "banging", "rattling", "humming", "buzzing", "grinding")
	if cls.intent == conversations.IntentOther {
		f.identity = identityQuestion(cls.toks)
		if !f.identity {
			f.topic = topic(cls.toks, lang == s.langs["es"])
		}
	}
}

// proposedClock picks, of the times a customer's "5" can mean, the one in
// working hours, as a time of day on an arbitrary date.
func proposedClock(minutes []int) time.Time {
	pick := minutes[0]
	for _, m := range minutes {
		if m >= 7*60 && m < 20*60 {
			pick = m
			break
		}
	}
	return time.Date(2000, 1, 1, pick/60, pick%60, 0, 0, time.UTC)
}

// dayName says a day in l's words: "Thursday", "tomorrow", "next week".
func (l *language) dayName(d suggest.Day) string {
	switch d {
	case suggest.DayToday:
		return l.words["today"]
	case suggest.DayTomorrow:
		return l.words["tomorrow"]
	case suggest.DayNextWeek:
		return l.words["nextweek"]
	}
	if names := strings.Split(l.words["weekdays"], "|"); len(names) == 7 && d >= 0 && d < 7 {
		return names[d]
	}
	return ""
}

// identityQuestion: "who is this", "who are you", "is this birchwood".
func identityQuestion(toks []string) bool {
	for i := 0; i+2 < len(toks); i++ {
		a, b, c := toks[i], toks[i+1], toks[i+2]
		if a == "who" && (b == "is" && c == "this" || b == "are" && c == "you") || a == "is" && b == "this" && (c == "the" || c == "a" || i == 0) {
			return true
		}
	}
	return len(toks) >= 2 && toks[0] == "who" && toks[1] == "is"
}

// topicWord names what a question is about when it holds w, in English
// and Spanish.
func topicWord(w string) (en, es string) {
	switch w {
	case "licensed", "license", "insured", "insurance", "licencia", "licencias", "seguro":
		return "licensing and insurance", "licencias y seguro"
	case "warranty", "garantia":
		return "your warranty", "su garantía"
	case "brand", "marca":
		return "which brand to choose", "qué marca elegir"
	case "recommend":
		return "a recommendation", "una recomendación"
	}
	return "", ""
}

// serviceVerb introduces the thing a customer asks about: "do you service
// tankless heaters", "can he look at my disposal", "instalan lavavajillas".
func serviceVerb(w string) bool {
	switch w {
	case "install", "installs", "service", "services", "fix", "repair", "repairs", "do", "replace", "check", "at", "on",
		"instalan", "instalar", "hacen", "reparan", "revisar", "revisan", "cambian", "arreglan":
		return true
	}
	return false
}

// topicSkip are words a topic does not start with.
func topicSkip(w string) bool {
	switch w {
	case "a", "an", "the", "my", "our", "your", "some", "also", "too", "el", "la", "los", "las", "un", "una", "mi", "su",
		"tambien", "you", "guys":
		return true
	}
	return false
}

// topicStop are words that end a topic.
func topicStop(w string) bool {
	switch w {
	case "too", "or", "while", "when", "if", "and", "as", "since", "because", "for", "mientras", "o", "y", "please", "por",
		"is", "are", "mine", "eventually", "sometime", "today", "tomorrow":
		return true
	}
	return false
}

// topic is what an unanswerable question is about, in the customer's own
// words ("tankless heaters", "electrical work"), or "".
func topic(toks []string, spanish bool) string {
	k := 0
	if spanish {
		k = 1
	}
	for _, w := range toks {
		if en, es := topicWord(w); en != "" {
			return [2]string{en, es}[k]
		}
	}
	for i, w := range toks {
		if !serviceVerb(w) {
			continue
		}
		var words []string
		for _, x := range toks[i+1:] {
			if len(words) == 0 && topicSkip(x) {
				continue
			}
			if isBreak(x) || topicStop(x) {
				break
			}
			if serviceVerb(x) {
				words = words[:0]
				continue
			}
			words = append(words, x)
			if len(words) == 3 {
				break
			}
		}
		t := strings.Join(words, " ")
		if len(words) == 0 || utf8.RuneCountInString(t) > maxTopicRunes || strings.ContainsFunc(t, func(r rune) bool { return !unicode.IsLetter(r) && r != ' ' }) {
			continue
		}
		switch words[0] {
		case "it", "that", "this", "lo", "eso", "esto", "me", "us", "you", "him":
			continue
		}
		return t
	}
	return ""
}
