package rules_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/suggest"
	"github.com/fieldtalk/fieldtalk/suggest/rules"
)

// The accuracy the labelled sets must reach. holdout2.tsv was written
// before the rules were changed for it and is never used to tune them; it
// holds the targets of the rules' second version.
const (
	minAccuracy         = 0.90 // labelled.tsv, holdout.tsv, dev.tsv
	minHoldout2Accuracy = 0.95
	minIntentRecall     = 0.85 // every intent, on holdout2.tsv
	minSpanishAccuracy  = 0.90 // on holdout2.tsv
	minSetSize          = 150  // each of labelled.tsv, dev.tsv and holdout2.tsv
	minHoldoutSize      = 50   // holdout.tsv, the first rules' smaller holdout (56 texts)
)

// minSize is how many texts the labelled set at path must hold, so that a
// file that lost its lines fails rather than scoring on what is left.
func minSize(path string) int {
	if path == "testdata/holdout.tsv" {
		return minHoldoutSize
	}
	return minSetSize
}

type labelled struct {
	line   int
	text   string
	photos int // "<mms:N>": no text and N photos
	intent conversations.Intent
	lang   string // "" when the file does not say
}

func (l labelled) message() conversations.Message {
	m := inbound(l.text)
	if l.photos > 0 {
		m.Body = ""
		for i := range l.photos {
			m.Media = append(m.Media, conversations.Media{URL: fmt.Sprintf("https://example.com/%d.jpg", i), ContentType: "image/jpeg"})
		}
	}
	return m
}

// loadLabelled reads text<TAB>intent[<TAB>language] lines.
func loadLabelled(t *testing.T, path string) []labelled {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) < 2 || len(fields) > 3 {
			t.Fatalf("%s:%d: want text<TAB>intent[<TAB>language], got %q", path, n, line)
		}
		l := labelled{line: n, text: fields[0], intent: conversations.Intent(strings.TrimSpace(fields[1]))}
		if len(fields) == 3 {
			l.lang = strings.TrimSpace(fields[2])
		}
		if k, ok := strings.CutPrefix(l.text, "<mms:"); ok {
			fmt.Sscanf(k, "%d>", &l.photos)
		}
		if !l.intent.Valid() || strings.TrimSpace(l.text) == "" {
			t.Fatalf("%s:%d: want text<TAB>intent with a known intent, got %q", path, n, line)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// score is how the rules read one labelled set.
type score struct {
	n, ok      int
	per        map[conversations.Intent][2]int // correct, total
	lang       map[string][2]int
	confusions map[string][]string
}

func (sc score) accuracy() float64 {
	if sc.n == 0 {
		return 0 // an empty set proves nothing, and must not pass as NaN
	}
	return float64(sc.ok) / float64(sc.n)
}

func measure(t *testing.T, s *rules.Suggester, set []labelled) score {
	t.Helper()
	sc := score{per: map[conversations.Intent][2]int{}, lang: map[string][2]int{}, confusions: map[string][]string{}}
	for _, l := range set {
		req := request(nil, l.message())
		ss, err := s.Suggest(context.Background(), req)
		if err != nil {
			t.Fatalf("line %d %q: %v", l.line, l.text, err)
		}
		got := ss[0].Intent
		sc.n++
		p, g := sc.per[l.intent], sc.lang[l.lang]
		p[1]++
		g[1]++
		if got == l.intent {
			sc.ok++
			p[0]++
			g[0]++
		} else {
			key := fmt.Sprintf("%s → %s", l.intent, got)
			sc.confusions[key] = append(sc.confusions[key], fmt.Sprintf("line %d: %q", l.line, l.text))
		}
		sc.per[l.intent], sc.lang[l.lang] = p, g
	}
	return sc
}

func (sc score) log(t *testing.T) {
	t.Logf("top-intent accuracy: %d/%d = %.1f%%", sc.ok, sc.n, 100*sc.accuracy())
	for _, in := range conversations.Intents {
		if p, ok := sc.per[in]; ok {
			t.Logf("  %-10s %2d/%2d", in, p[0], p[1])
		}
	}
	for _, l := range []string{"en", "es"} {
		if g, ok := sc.lang[l]; ok {
			t.Logf("  language %s: %d/%d = %.1f%%", l, g[0], g[1], 100*float64(g[0])/float64(g[1]))
		}
	}
	keys := make([]string, 0, len(sc.confusions))
	for k := range sc.confusions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t.Logf("confused %s (%d): %s", k, len(sc.confusions[k]), strings.Join(sc.confusions[k], "; "))
	}
}

var labelledSets = []string{"testdata/labelled.tsv", "testdata/holdout.tsv", "testdata/dev.tsv", "testdata/holdout2.tsv"}

// TestLabelledAccuracy classifies every labelled text the way the Service
// asks: the last inbound message alone, no job. It logs the accuracy, the
// recall per intent and language and every confusion, and fails below the
// targets.
func TestLabelledAccuracy(t *testing.T) {
	s := newSuggester(t, rules.Config{})
	for _, path := range labelledSets {
		t.Run(path, func(t *testing.T) {
			set := loadLabelled(t, path)
			sc := measure(t, s, set)
			sc.log(t)
			for _, f := range verdict(path, len(set), sc) {
				t.Error(f)
			}
		})
	}
}

// verdict lists how the score of the labelled set at path, of n texts,
// misses the targets.
func verdict(path string, n int, sc score) []string {
	var out []string
	if n < minSize(path) {
		out = append(out, fmt.Sprintf("%s holds %d texts; want at least %d", path, n, minSize(path)))
	}
	want := minAccuracy
	if path == "testdata/holdout2.tsv" {
		want = minHoldout2Accuracy
		for in, p := range sc.per {
			if r := float64(p[0]) / float64(p[1]); r < minIntentRecall {
				out = append(out, fmt.Sprintf("intent %s: %d/%d = %.1f%% is below %.0f%%", in, p[0], p[1], 100*r, 100*minIntentRecall))
			}
		}
		if len(sc.per) != len(conversations.Intents) {
			out = append(out, fmt.Sprintf("%d intents labelled; want all %d", len(sc.per), len(conversations.Intents)))
		}
		es := sc.lang["es"]
		if es[1] == 0 || float64(es[0])/float64(es[1]) < minSpanishAccuracy {
			out = append(out, fmt.Sprintf("Spanish: %d/%d is below %.0f%%", es[0], es[1], 100*minSpanishAccuracy))
		}
	}
	if acc := sc.accuracy(); !(acc >= want) {
		out = append(out, fmt.Sprintf("accuracy %.1f%% is below %.0f%%", 100*acc, 100*want))
	}
	return out
}

// TestAccuracyOfNothingFails: a labelled file that lost its lines fails
// the accuracy test rather than passing on what is left: emptied (which
// would score NaN, and NaN passes every "below" check), or cut to its first
// text (which, answered right, scores 100 %).
func TestAccuracyOfNothingFails(t *testing.T) {
	if acc := (score{}).accuracy(); acc >= minAccuracy || acc != acc {
		t.Fatalf("an empty set scores %v", acc)
	}
	s := newSuggester(t, rules.Config{})
	for _, path := range labelledSets {
		first := loadLabelled(t, path)[:1]
		if len(verdict(path, 0, measure(t, s, nil))) == 0 {
			t.Errorf("%s, emptied, passes", path)
		}
		if len(verdict(path, 1, measure(t, s, first))) == 0 {
			t.Errorf("%s, cut to one text, passes", path)
		}
	}
}

// TestLabelledRepliesInEveryContext runs every labelled text against every
// shape of job context and checks the replies against the contract,
// including that no reply states a time the job lacks.
func TestLabelledRepliesInEveryContext(t *testing.T) {
	s := newSuggester(t, rules.Config{})
	var set []labelled
	for _, p := range labelledSets {
		set = append(set, loadLabelled(t, p)...)
	}
	for name, j := range contexts() {
		for _, l := range set {
			req := request(j, outbound("Hi, this is Birchwood Plumbing."), l.message())
			ss, err := s.Suggest(context.Background(), req)
			if err != nil {
				t.Fatalf("%s: %q: %v", name, l.text, err)
			}
			if err := suggest.Validate(req, ss); err != nil {
				t.Errorf("%s: %q: %v", name, l.text, err)
			}
			for _, sg := range ss {
				if sg.Urgent != (sg.Intent == conversations.IntentEmergency) {
					t.Errorf("%s: %q: Urgent %v on a %s suggestion", name, l.text, sg.Urgent, sg.Intent)
				}
			}
		}
	}
}
