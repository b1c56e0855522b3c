package rules

import (
	"fmt"
	"strings"

	"github.com/fieldtalk/fieldtalk/conversations"
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
}

func newClassifier() (*classifier, error) {
	cl := &classifier{byWord: map[string][]int{}, byPrefix: map[byte][]int{}, order: precedence(), negators: map[string]bool{}}
	// Negators, just before a cue, say the opposite of it.
	for _, w := range []string{"not", "no", "dont", "never", "isnt", "arent", "wasnt", "didnt", "doesnt", "without", "nothing", "nor"} {
		cl.negators[w] = true
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
	gap := 0
	for _, f := range strings.Fields(spec.pattern) {
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
}

// classify finds the intents of text and picks the top one by precedence.
func (cl *classifier) classify(text string) classification {
	toks := cl.lex.tokens(text)
	var scores [16]float64 // indexed by position in cl.order
	var hits []int
	hz := hazardNone

	add := func(in conversations.Intent, w float64) {
		for i, o := range cl.order {
			if o == in {
				scores[i] += w
				return
			}
		}
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
		if counted[ci] >= 2 || tried[ci] == start {
			return
		}
		tried[ci] = start
		if !cl.matchAt(k, toks, start) {
			return
		}
		counted[ci]++
		hits = append(hits, ci)
		add(k.intent, k.weight)
	}
	for i, w := range toks {
		for _, ci := range cl.byWord[w] {
			try(ci, i)
		}
		for _, ci := range cl.byPrefix[w[0]] {
			try(ci, i)
		}
	}
	if etaWhen(toks) {
		add(conversations.IntentETA, 2)
	}

	var detected []conversations.Intent
	var top float64
	for i, in := range cl.order {
		if scores[i] >= threshold(in) {
			if len(detected) == 0 {
				top = scores[i] / threshold(in)
			}
			detected = append(detected, in)
		}
	}
	if len(detected) == 0 {
		return classification{intent: conversations.IntentOther, confidence: 0.3}
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
	conf := 0.6 + 0.15*min(top-1, 2)
	if len(detected) > 1 {
		conf -= 0.1
	}
	return classification{intent: detected[0], confidence: conf, also: detected[1:], hazard: hz}
}

// matchAt reports whether k matches toks starting at start.
func (cl *classifier) matchAt(k *cue, toks []string, start int) bool {
	if !k.slots[0].matches(toks[start]) {
		return false
	}
	for back := 1; back <= 2 && start-back >= 0; back++ {
		if cl.negators[toks[start-back]] {
			return false
		}
	}
	pos := start
	for _, s := range k.slots[1:] {
		found := -1
		for j := pos + 1; j <= pos+1+s.gap && j < len(toks); j++ {
			if s.matches(toks[j]) {
				found = j
				break
			}
		}
		if found < 0 {
			return false
		}
		pos = found
	}
	for j := pos + 1; j <= pos+3 && j < len(toks); j++ {
		for _, u := range k.unless {
			if toks[j] == u {
				return false
			}
		}
	}
	return true
}

// etaWhen finds "when ... coming" questions. A progressive verb makes the
// question on its own ("when u coming"); a bare verb needs an auxiliary in
// between ("when will he arrive"), so "call when you get here" is not one.
func etaWhen(toks []string) bool {
	for i, w := range toks {
		if w != "when" {
			continue
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
