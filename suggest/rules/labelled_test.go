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

// minAccuracy is the top-intent accuracy the labelled sets must reach.
const minAccuracy = 0.90

type labelled struct {
	line   int
	text   string
	intent conversations.Intent
}

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
		text, in, ok := strings.Cut(line, "\t")
		intent := conversations.Intent(strings.TrimSpace(in))
		if !ok || !intent.Valid() || strings.TrimSpace(text) == "" {
			t.Fatalf("%s:%d: want text<TAB>intent with a known intent, got %q", path, n, line)
		}
		out = append(out, labelled{n, text, intent})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLabelledAccuracy classifies every labelled text the way the Service
// asks: the last inbound message alone, no job. It logs the accuracy, the
// recall per intent and every confusion, and fails below minAccuracy.
func TestLabelledAccuracy(t *testing.T) {
	s := newSuggester(t, rules.Config{})
	for _, path := range []string{"testdata/labelled.tsv", "testdata/holdout.tsv"} {
		t.Run(path, func(t *testing.T) {
			set := loadLabelled(t, path)
			if path == "testdata/labelled.tsv" && len(set) < 150 {
				t.Fatalf("%s holds %d texts; want at least 150", path, len(set))
			}
			type tally struct{ n, ok int }
			per := map[conversations.Intent]*tally{}
			confusions := map[string][]string{}
			correct := 0
			for _, l := range set {
				req := request(nil, inbound(l.text))
				ss, err := s.Suggest(context.Background(), req)
				if err != nil {
					t.Fatalf("line %d %q: %v", l.line, l.text, err)
				}
				if err := suggest.Validate(req, ss); err != nil {
					t.Errorf("line %d %q: %v", l.line, l.text, err)
				}
				got := ss[0].Intent
				if per[l.intent] == nil {
					per[l.intent] = &tally{}
				}
				per[l.intent].n++
				if got == l.intent {
					correct++
					per[l.intent].ok++
					continue
				}
				key := fmt.Sprintf("%s → %s", l.intent, got)
				confusions[key] = append(confusions[key], fmt.Sprintf("line %d: %q", l.line, l.text))
			}
			acc := float64(correct) / float64(len(set))
			t.Logf("top-intent accuracy: %d/%d = %.1f%%", correct, len(set), 100*acc)
			for _, in := range conversations.Intents {
				if tl := per[in]; tl != nil {
					t.Logf("  %-10s %2d/%2d", in, tl.ok, tl.n)
				}
			}
			keys := make([]string, 0, len(confusions))
			for k := range confusions {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				t.Logf("confused %s (%d): %s", k, len(confusions[k]), strings.Join(confusions[k], "; "))
			}
			if acc < minAccuracy {
				t.Errorf("accuracy %.1f%% is below %.0f%%", 100*acc, 100*minAccuracy)
			}
		})
	}
}

// TestLabelledRepliesInEveryContext runs every labelled text against every
// shape of job context and checks the replies against the contract,
// including that no reply states a time the job lacks.
func TestLabelledRepliesInEveryContext(t *testing.T) {
	s := newSuggester(t, rules.Config{})
	var set []labelled
	for _, p := range []string{"testdata/labelled.tsv", "testdata/holdout.tsv"} {
		set = append(set, loadLabelled(t, p)...)
	}
	for name, j := range contexts() {
		for _, l := range set {
			req := request(j, outbound("Hi, this is Birchwood Plumbing."), inbound(l.text))
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
