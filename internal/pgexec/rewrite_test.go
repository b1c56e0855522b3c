package pgexec

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestRewrite(t *testing.T) {
	cases := []struct {
		name, in, want string
		n              int
	}{
		{"placeholders", "SELECT ? FROM t WHERE a = ? AND (b, c) < (?, ?)", "SELECT $1 FROM t WHERE a = $2 AND (b, c) < ($3, $4)", 4},
		{"string literal", "SELECT '?', ? WHERE x = 'it''s ?'", "SELECT '?', $1 WHERE x = 'it''s ?'", 1},
		{"escape string", `SELECT E'\'?', ?`, `SELECT E'\'?', $1`, 1},
		{"name ending in e then literal", `SELECT type'?', ?`, `SELECT type'?', $1`, 1},
		{"quoted identifier", `SELECT "a?""b" FROM t WHERE c = ?`, `SELECT "a?""b" FROM t WHERE c = $1`, 1},
		{"line comment", "SELECT 1 -- why? because\n, ?", "SELECT 1 -- why? because\n, $1", 1},
		{"block comment, nested", "SELECT /* a? /* b? */ c? */ ?", "SELECT /* a? /* b? */ c? */ $1", 1},
		{"dollar quote", "SELECT $$a?$$, $f$ b ?$$ $f$, ?", "SELECT $$a?$$, $f$ b ?$$ $f$, $1", 1},
		{"dollar in a name", "SELECT a$b, ? FROM t$1", "SELECT a$b, $1 FROM t$1", 1},
		{"jsonb operators", "SELECT d ?? 'k', d ??| ?, d ??& ? FROM t", "SELECT d ? 'k', d ?| $1, d ?& $2 FROM t", 2},
		{"nothing to do", "SELECT 1", "SELECT 1", 0},
		{"placeholder touching names", "SELECT x FROM t LIMIT? OFFSET?2", "SELECT x FROM t LIMIT $1 OFFSET $2 2", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, n, err := Rewrite(c.in)
			if err != nil {
				t.Fatalf("Rewrite(%q): %v", c.in, err)
			}
			if got != c.want || n != c.n {
				t.Errorf("Rewrite(%q) = %q, %d; want %q, %d", c.in, got, n, c.want, c.n)
			}
		})
	}
}

func TestRewriteRejectsMalformed(t *testing.T) {
	for _, in := range []string{
		"SELECT 'open ?", `SELECT "open ?`, "SELECT /* open ?", "SELECT $x$ open ?", `SELECT E'\'`,
		"SELECT $1, ?",
	} {
		if got, _, err := Rewrite(in); err == nil {
			t.Errorf("Rewrite(%q) = %q: want an error", in, got)
		}
	}
}

// A token of a generated statement: its text, and whether it is code (where
// a ? is a placeholder) or a literal, quoted name, comment or dollar quote,
// which must come out unchanged.
type token struct {
	text string
	code bool
}

// opaque are the literals the generator draws from; each contains the
// characters that matter to the rewrite.
func opaque(r *rand.Rand) string {
	inner := []string{"?", "??", "$1", "'", "\"", "--", "/*", "*/", "$$", "\\", "x", " ", "\n", "é"}
	body := func(bad ...string) string {
		var b strings.Builder
		for range r.IntN(6) {
			s := inner[r.IntN(len(inner))]
			for _, x := range bad {
				if strings.Contains(s, x) {
					s = "?"
				}
			}
			b.WriteString(s)
		}
		return b.String()
	}
	switch r.IntN(6) {
	case 0:
		return "'" + strings.ReplaceAll(body(), "'", "''") + "'"
	case 1:
		return "E'" + strings.ReplaceAll(strings.ReplaceAll(body(), `\`, `\\`), "'", `\'`) + "'"
	case 2:
		return `"` + strings.ReplaceAll(body(), `"`, `""`) + `"`
	case 3:
		return "--" + body("\n") + "\n"
	case 4:
		return "/*" + body("/*", "*/", "*", "/") + "*/"
	default:
		return "$q$" + body("$") + "$q$"
	}
}

// The property: whatever a statement holds, its literals, quoted names,
// comments and dollar quotes come out byte for byte, and its code's
// placeholders are numbered in order.
func TestRewriteNeverTouchesLiterals(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	codes := []string{" SELECT ", " a = ", ", ", " ?? ", " ??| ", "(", ")", " t.x ", " 1 "}
	for i := range 5000 {
		var toks []token
		for range 1 + r.IntN(12) {
			switch r.IntN(3) {
			case 0:
				// A space after it: two quoted tokens side by side are one to PostgreSQL.
				toks = append(toks, token{opaque(r), false}, token{" ", true})
			case 1:
				toks = append(toks, token{" ? ", true})
			default:
				toks = append(toks, token{codes[r.IntN(len(codes))], true})
			}
		}
		var in, want strings.Builder
		n := 0
		for _, tk := range toks {
			in.WriteString(tk.text)
			switch {
			case !tk.code:
				want.WriteString(tk.text)
			case tk.text == " ? ":
				n++
				fmt.Fprintf(&want, " $%d ", n)
			default:
				want.WriteString(strings.ReplaceAll(tk.text, "??", "?"))
			}
		}
		got, gotN, err := Rewrite(in.String())
		if err != nil {
			for _, tk := range toks {
				t.Logf("token %q code=%v", tk.text, tk.code)
			}
			t.Fatalf("case %d: Rewrite(%q): %v", i, in.String(), err)
		}
		if got != want.String() || gotN != n {
			t.Fatalf("case %d: Rewrite(%q)\n got %q, %d\nwant %q, %d", i, in.String(), got, gotN, want.String(), n)
		}
	}
}

// Any input either is rejected or comes out with its literals, quoted
// names, comments and dollar quotes as they were, in the same order, and its
// code changed only where a ? was: the parameters $1..$n in order, ?? made ?.
func FuzzRewrite(f *testing.F) {
	for _, s := range []string{"SELECT ?", "SELECT '?' , ?", "$$?$$ ?", "-- ?\n?", "/* ? */ ?", `E'\'?' ?`, "d ??| ?", `"?" ?`, "$q$a$q$$q$?$q$"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, n, err := Rewrite(in)
		if err != nil {
			return
		}
		before, err := segments(in)
		if err != nil {
			t.Fatalf("segments(%q): %v, but Rewrite accepted it", in, err)
		}
		k := 0
		var want strings.Builder
		for _, sg := range before {
			if sg.opaque {
				want.WriteString(sg.text)
				continue
			}
			for i := 0; i < len(sg.text); i++ {
				switch {
				case sg.text[i] != '?':
					want.WriteByte(sg.text[i])
				case i+1 < len(sg.text) && sg.text[i+1] == '?':
					want.WriteByte('?')
					i++
				default:
					k++
					if w := want.String(); len(w) > 0 && isIdentByte(w[len(w)-1]) {
						want.WriteByte(' ')
					}
					fmt.Fprintf(&want, "$%d", k)
					if i+1 < len(sg.text) && isIdentByte(sg.text[i+1]) {
						want.WriteByte(' ')
					}
				}
			}
		}
		if got != want.String() || n != k {
			t.Fatalf("Rewrite(%q) = %q, %d; want %q, %d", in, got, n, want.String(), k)
		}
		// The output's opaque pieces are the input's.
		after, err := segments(got)
		if err != nil {
			t.Fatalf("Rewrite(%q) = %q, which does not lex: %v", in, got, err)
		}
		var a, b []string
		for _, sg := range before {
			if sg.opaque {
				a = append(a, sg.text)
			}
		}
		for _, sg := range after {
			if sg.opaque {
				b = append(b, sg.text)
			}
		}
		if strings.Join(a, "\x00") != strings.Join(b, "\x00") {
			t.Fatalf("Rewrite(%q) = %q changed a literal:\n%q\n%q", in, got, a, b)
		}
	})
}
