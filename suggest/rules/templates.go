package rules

import (
	"bufio"
	"embed"
	"fmt"
	"strings"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// The replies, one file per language the rules answer in. They are data:
// adding a language is adding a file (and its words to the lexicon).
//
//go:embed templates/*.tsv
var templateFiles embed.FS

// fallbackLanguage answers every language without a file of its own.
const fallbackLanguage = "en"

// template is one reply of one intent and the facts it needs.
type template struct {
	when []cond
	text string
}

type cond struct {
	name string
	not  bool
}

// language is one file's replies and words.
type language struct {
	replies map[conversations.Intent][]template
	tech    map[string][3]string // self, named, none
	cust    map[string][2]string // named, none
	words   map[string]string
}

func loadLanguages() (map[string]*language, error) {
	entries, err := templateFiles.ReadDir("templates")
	if err != nil {
		return nil, fmt.Errorf("rules: templates: %w", err)
	}
	out := map[string]*language{}
	for _, e := range entries {
		tag := strings.TrimSuffix(e.Name(), ".tsv")
		f, err := templateFiles.Open("templates/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("rules: templates: %w", err)
		}
		l, err := parseLanguage(bufio.NewScanner(f))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("rules: templates/%s: %w", e.Name(), err)
		}
		out[tag] = l
	}
	if out[fallbackLanguage] == nil {
		return nil, fmt.Errorf("rules: templates: no %s.tsv", fallbackLanguage)
	}
	return out, nil
}

func parseLanguage(sc *bufio.Scanner) (*language, error) {
	l := &language{
		replies: map[conversations.Intent][]template{},
		tech:    map[string][3]string{},
		cust:    map[string][2]string{},
		words:   map[string]string{},
	}
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		switch {
		case strings.HasPrefix(f[0], "=tech:") && len(f) == 4:
			l.tech[f[0][6:]] = [3]string{f[1], f[2], f[3]}
		case strings.HasPrefix(f[0], "=cust:") && len(f) == 3:
			l.cust[f[0][6:]] = [2]string{f[1], f[2]}
		case strings.HasPrefix(f[0], "=word:") && len(f) == 2:
			l.words[f[0][6:]] = f[1]
		case len(f) == 3 && conversations.Intent(f[0]).Valid():
			t := template{text: f[2]}
			if f[1] != "-" {
				for _, c := range strings.Split(f[1], ",") {
					name, not := strings.CutPrefix(c, "!")
					t.when = append(t.when, cond{name: name, not: not})
				}
			}
			in := conversations.Intent(f[0])
			l.replies[in] = append(l.replies[in], t)
		default:
			return nil, fmt.Errorf("line %d: cannot read %q", n, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, in := range conversations.Intents {
		if len(l.replies[in]) < conversations.MinSuggestions {
			return nil, fmt.Errorf("intent %s has fewer than %d replies", in, conversations.MinSuggestions)
		}
	}
	return l, nil
}

// render returns up to limit replies of intent whose conditions f meets,
// filled in, best first.
func (l *language) render(in conversations.Intent, f *facts, limit int) []string {
	out := make([]string, 0, limit)
	for _, t := range l.replies[in] {
		if len(out) == limit {
			break
		}
		ok := true
		for _, c := range t.when {
			if f.has(c.name) == c.not {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, l.fill(t.text, f))
		}
	}
	return out
}

// fill replaces every {name} in text.
func (l *language) fill(text string, f *facts) string {
	if !strings.Contains(text, "{") {
		return text
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(text, '{')
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		j := strings.IndexByte(text[i:], '}')
		if j < 0 {
			b.WriteString(text)
			return b.String()
		}
		b.WriteString(text[:i])
		b.WriteString(l.value(text[i+1:i+j], f))
		text = text[i+j+1:]
	}
}

func (l *language) value(name string, f *facts) string {
	if forms, ok := l.tech[name]; ok {
		switch {
		case f.tech.self:
			return strings.ReplaceAll(forms[0], "{name}", f.tech.name)
		case f.tech.name != "":
			return strings.ReplaceAll(forms[1], "{name}", f.tech.name)
		}
		return forms[2]
	}
	if forms, ok := l.cust[name]; ok {
		if f.customer != "" {
			return strings.ReplaceAll(forms[0], "{customer}", f.customer)
		}
		return forms[1]
	}
	switch name {
	case "name":
		return f.tech.name
	case "customer":
		return f.customer
	case "eta":
		return f.eta
	case "window":
		return f.window
	case "address":
		return f.address
	case "business":
		return f.business
	case "slot":
		return f.slot
	case "topic":
		return f.topic
	case "safety":
		return l.words["safety."+f.hazard.String()]
	}
	return l.words[name]
}
