package rules

import (
	"fmt"
	"strings"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/suggest"
)

// precedence orders intents by how much they matter when one text carries
// several: a danger first, then an unhappy customer, then changes to the
// appointment (a cancellation outranks a move), then questions that need an
// answer, then acknowledgements. "other" is what is left.
func precedence() []conversations.Intent {
	return []conversations.Intent{
		conversations.IntentEmergency,
		conversations.IntentComplaint,
		conversations.IntentCancel,
		conversations.IntentReschedule,
		conversations.IntentETA,
		conversations.IntentAccess,
		conversations.IntentPricing,
		conversations.IntentPayment,
		conversations.IntentConfirm,
		conversations.IntentThanks,
	}
}

type slot struct {
	gap      int // how many words may come between the previous slot and this one
	words    []string
	prefixes []string
}

func (s slot) matches(w string) bool {
	for _, x := range s.words {
		if w == x {
			return true
		}
	}
	for _, p := range s.prefixes {
		if strings.HasPrefix(w, p) {
			return true
		}
	}
	return false
}

type cue struct {
	intent conversations.Intent
	weight float64
	hazard hazard
	slots  []slot
	unless []string
	soft   bool // "~": yields to a question about arrival
	timed  bool // "@": counts only when the text names a day or time
	fitted bool // "^": counts only when the text speaks of an install
}

// classifier scores a text against the cue table. It is built once per
// Suggester and only read afterwards, so it is safe for concurrent use.
type classifier struct {
	lex      *lexicon
	cues     []cue
	byWord   map[string][]int // cues whose first slot names the word
	byPrefix map[byte][]int   // cues whose first slot has a prefix, by its first letter
	order    []conversations.Intent
	negators map[string]bool
	contrast map[string]bool // "but", "just", "pero": what follows is what the customer means
}

func newClassifier() (*classifier, error) {
	cl := &classifier{byWord: map[string][]int{}, byPrefix: map[byte][]int{}, order: precedence(), negators: map[string]bool{}, contrast: map[string]bool{}}
	// Negators, up to three words before a cue in the same clause, say the
	// opposite of it.
	for _, w := range []string{"not", "no", "dont", "never", "isnt", "arent", "wasnt", "didnt", "doesnt", "without", "nothing", "nor", "ni", "sin"} {
		cl.negators[w] = true
	}
	// A contrast ends a negation's reach: "dont cancel, just tell me when".
	for _, w := range []string{"but", "just", "only", "though", "although", "pero", "solo", "sino", "instead", "except"} {
		cl.contrast[w] = true
	}
	var words []string
	for _, spec := range cueTable() {
		k, err := parseCue(spec)
		if err != nil {
			return nil, err
		}
		idx := len(cl.cues)
		cl.cues = append(cl.cues, k)
		for _, w := range k.slots[0].words {
			cl.byWord[w] = append(cl.byWord[w], idx)
		}
		letters := map[byte]bool{}
		for _, p := range k.slots[0].prefixes {
			if !letters[p[0]] {
				letters[p[0]] = true
				cl.byPrefix[p[0]] = append(cl.byPrefix[p[0]], idx)
			}
		}
		for _, s := range k.slots {
			words = append(words, s.words...)
			words = append(words, s.prefixes...)
		}
	}
	words = append(words, "when", "where")
	cl.lex = newLexicon(words)
	return cl, nil
}

func parseCue(spec cueSpec) (cue, error) {
	k := cue{intent: spec.intent, weight: spec.weight, hazard: spec.hazard}
	pattern := spec.pattern
	for len(pattern) > 0 && strings.ContainsRune("~@^", rune(pattern[0])) {
		switch pattern[0] {
		case '~':
			k.soft = true
		case '@':
			k.timed = true
		case '^':
			k.fitted = true
		}
		pattern = pattern[1:]
	}
	gap := 0
	for _, f := range strings.Fields(pattern) {
		switch {
		case f == "..":
			gap = 3
			continue
		case strings.HasPrefix(f, "!"):
			k.unless = strings.Split(f[1:], "|")
			continue
		}
		if k.unless != nil {
			return cue{}, fmt.Errorf("rules: cue %q: a slot after the ! list", spec.pattern)
		}
		s := slot{gap: gap}
		for _, alt := range strings.Split(f, "|") {
			if p, ok := strings.CutSuffix(alt, "*"); ok {
				s.prefixes = append(s.prefixes, p)
			} else {
				s.words = append(s.words, alt)
			}
		}
		k.slots = append(k.slots, s)
		gap = 0
	}
	if len(k.slots) == 0 || !spec.intent.Valid() || spec.weight <= 0 {
		return cue{}, fmt.Errorf("rules: cue %q: empty pattern, bad intent or weight", spec.pattern)
	}
	return k, nil
}

// classification is what a text is about.
type classification struct {
	intent     conversations.Intent   // the top intent by precedence; IntentOther when none was detected
	confidence float64                // in [0,1]
	also       []conversations.Intent // the other detected intents, by precedence
	hazard     hazard                 // for an emergency: the worst danger named
	language   string                 // what the text is written in; "" when it gives nothing away
	toks       []string               // the text as the cues read it
	mentions   []suggest.Mention      // the days and times it names
}

// classify finds the intents of text and picks the top one by precedence.
func (cl *classifier) classify(text string) classification {
	raw := splitWords(text)
	lang := detectLanguage(raw, cl.lex.langs)
	toks := cl.lex.read(raw, lang == "es")
	ments := suggest.Mentions(text)
	timed := false
	for _, m := range ments {
		if m.Kind != suggest.MentionDuration {
			timed = true
		}
	}
	fitted := false
	question := false
	for i, w := range toks {
		switch {
		case w == "?":
			question = true
		case w == "new" || w == "installed" || w == "replaced" || strings.HasPrefix(w, "install") || w == "put" && i+1 < len(toks) && toks[i+1] == "in":
			fitted = true
		}
	}

	var scores, hard [16]float64 // indexed by position in cl.order; hard leaves out soft cues
	var hits []int
	hz := hazardNone

	index := func(in conversations.Intent) int {
		for i, o := range cl.order {
			if o == in {
				return i
			}
		}
		return len(cl.order)
	}
	// A cue counts at most twice per text ("$$" is two signs of money), and
	// once per position: a first slot holding both "burnt" and "burn*" is
	// reached through both indexes.
	counted := make([]int8, len(cl.cues))
	tried := make([]int, len(cl.cues))
	for i := range tried {
		tried[i] = -1
	}
	try := func(ci, start int) {
		k := &cl.cues[ci]
		if counted[ci] >= 2 || tried[ci] == start || k.timed && !timed || k.fitted && !fitted {
			return
		}
		tried[ci] = start
		ok, negated := cl.matchAt(k, toks, start)
		if !ok {
			return
		}
		counted[ci]++
		i := index(k.intent)
		if i == len(cl.order) {
			return
		}
		if negated {
			// "dont cancel", "not an emergency", "no need to reschedule":
			// the text says it is not about this.
			scores[i] -= k.weight
			hard[i] -= k.weight
			return
		}
		hits = append(hits, ci)
		scores[i] += k.weight
		if !k.soft {
			hard[i] += k.weight
		}
	}
	for i, w := range toks {
		if isBreak(w) {
			continue
		}
		for _, ci := range cl.byWord[w] {
			try(ci, i)
		}
		for _, ci := range cl.byPrefix[w[0]] {
			try(ci, i)
		}
	}
	if etaWhen(toks) {
		i := index(conversations.IntentETA)
		scores[i] += 2
		hard[i] += 2
	}

	// Precedence decides among the intents the text is clearly about (a
	// score of 1.5 or more); one it only hints at comes after them. A
	// complaint that rests on soft signs alone ("nobody here yet") yields to
	// a question about arrival.
	var strong, weak []conversations.Intent
	var topScore = map[conversations.Intent]float64{}
	etaAsked := question && scores[index(conversations.IntentETA)] >= threshold(conversations.IntentETA)
	for i, in := range cl.order {
		if scores[i] < threshold(in) {
			continue
		}
		topScore[in] = scores[i] / threshold(in)
		switch {
		case in == conversations.IntentComplaint && etaAsked && hard[i] < threshold(in):
			weak = append(weak, in)
		case scores[i] >= 1.5 || in == conversations.IntentEmergency:
			strong = append(strong, in)
		default:
			weak = append(weak, in)
		}
	}
	detected := append(strong, weak...)
	cls := classification{intent: conversations.IntentOther, confidence: 0.3, language: lang, toks: toks, mentions: ments}
	if len(detected) == 0 {
		return cls
	}
	if detected[0] == conversations.IntentEmergency {
		for _, ci := range hits {
			if k := cl.cues[ci]; k.intent == conversations.IntentEmergency && k.hazard > hz {
				hz = k.hazard
			}
		}
	}
	// A score twice the threshold or more is as sure as a keyword match
	// gets; a second intent in the same text makes the top one less sure.
	conf := 0.6 + 0.15*min(topScore[detected[0]]-1, 2)
	if len(detected) > 1 {
		conf -= 0.1
	}
	cls.intent, cls.confidence, cls.also, cls.hazard = detected[0], conf, detected[1:], hz
	return cls
}

// matchAt reports whether k matches toks starting at start, and whether a
// negation within three words before it, in the same clause and with no
// contrast in between, turns it around. A match never reaches across a
// clause break.
func (cl *classifier) matchAt(k *cue, toks []string, start int) (ok, negated bool) {
	if !k.slots[0].matches(toks[start]) {
		return false, false
	}
	pos := start
	for _, s := range k.slots[1:] {
		found := -1
		for j := pos + 1; j <= pos+1+s.gap && j < len(toks); j++ {
			if isBreak(toks[j]) {
				break
			}
			if s.matches(toks[j]) {
				found = j
				break
			}
		}
		if found < 0 {
			return false, false
		}
		pos = found
	}
	for j := pos + 1; j <= pos+3 && j < len(toks); j++ {
		for _, u := range k.unless {
			if toks[j] == u {
				return false, false
			}
		}
	}
	for back := 1; back <= 3 && start-back >= 0; back++ {
		w := toks[start-back]
		if isBreak(w) || cl.contrast[w] {
			break
		}
		if cl.negators[w] {
			return true, true
		}
	}
	return true, false
}

// etaWhen finds "when ... coming" questions. A progressive verb makes the
// question on its own ("when u coming"); a bare verb needs an auxiliary in
// between ("when will he arrive"), so "call when you get here" is not one.
func etaWhen(toks []string) bool {
	for i, w := range toks {
		if w != "when" {
			continue
		}
		// "when" asks only where a question starts: "when will he come",
		// "any idea when he is coming", not "can I pay when he is here".
		if i > 1 && toks[i-1] == "me" {
			switch toks[i-2] {
			case "tell", "let", "ask", "text", "show":
			default:
				continue
			}
		} else if i > 0 {
			switch toks[i-1] {
			case ",", "?", "know", "idea", "wondering", "wonder", "tell", "ask", "asking", "curious", "sure", "question",
				"hey", "hi", "hello", "so", "and", "but", "ok", "just", "roughly", "about", "exactly", "guess", "estimate":
			default:
				continue
			}
		}
		aux := false
		for j := i + 1; j < len(toks) && j <= i+6; j++ {
			switch toks[j] {
			case "will", "would", "are", "is", "can", "could", "should", "do", "does", "did", "shall", "might", "may":
				aux = true
			case "coming", "arriving", "showing", "heading", "headed", "leaving", "arrival", "eta", "expected", "expecting":
				return true
			case "come", "arrive", "show", "get", "be", "here", "there", "start", "leave", "appointment", "stop":
				if aux {
					return true
				}
			}
		}
	}
	return false
}
