package pgexec

import (
	"fmt"
	"strconv"
	"strings"
)

// Rewrite turns the ? placeholders of query into PostgreSQL's numbered
// parameters ($1, $2, ... in order) and returns the new text and the number
// of placeholders.
//
// A ? is a placeholder only in the statement's own text: inside a string
// literal ('...', E'...' with its backslash escapes), a quoted identifier
// ("..."), a comment (-- to the end of the line, or /* */, nested) or a
// dollar-quoted string ($$...$$, $tag$...$tag$) it is left as it is, and so
// is everything else there.
//
// The escape rule: ?? in the statement's own text is one literal ?, never a
// placeholder. That is how a statement spells the jsonb operators: ?? for
// ?, ??| for ?|, ??& for ?& (the rule pgJDBC uses). A lone ? is always a
// placeholder, so "a ?| b" would be a placeholder followed by |: the
// statement must write "a ??| b".
//
// A statement that ends inside a literal, a quoted identifier, a block
// comment or a dollar-quoted string is an error, as are $n parameters beside
// ? placeholders (one statement, one way of numbering).
func Rewrite(query string) (string, int, error) {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n, numbered := 0, false
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '?':
			if i+1 < len(query) && query[i+1] == '?' {
				b.WriteByte('?')
				i += 2
				continue
			}
			n++
			// $n must stay a token of its own: after a name (LIMIT?) it
			// would join the name (LIMIT$1), before a digit it would grow.
			if b.Len() > 0 && isIdentByte(b.String()[b.Len()-1]) {
				b.WriteByte(' ')
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			if i+1 < len(query) && isIdentByte(query[i+1]) {
				b.WriteByte(' ')
			}
			i++
			continue
		case c == '$' && i+1 < len(query) && isDigit(query[i+1]):
			numbered = true
		}
		end, _, err := skip(query, i)
		if err != nil {
			return "", 0, err
		}
		b.WriteString(query[i:end])
		i = end
	}
	if numbered && n > 0 {
		return "", 0, fmt.Errorf("pgexec: rewrite: the statement mixes $n parameters and ? placeholders")
	}
	return b.String(), n, nil
}

// MustRewrite is Rewrite for statements written into the program: it
// panics on an error, which is a bug in the statement, found by the first
// test that runs it.
func MustRewrite(query string) string {
	q, _, err := Rewrite(query)
	if err != nil {
		panic(err)
	}
	return q
}

// skip returns where the token starting at query[i] ends: after a literal,
// a quoted identifier, a comment or a dollar-quoted string, or i+1 for any
// other byte (a run of name bytes is taken whole, so that a $ inside a name
// does not start a dollar quote and an E ending a name does not start an
// escape string).
func skip(query string, i int) (end int, opaque bool, err error) {
	c := query[i]
	switch {
	case c == '\'':
		end, err = quoted(query, i, '\'', false)
		return end, true, err
	case (c == 'E' || c == 'e') && i+1 < len(query) && query[i+1] == '\'' && (i == 0 || !isIdentByte(query[i-1])):
		end, err = quoted(query, i+1, '\'', true)
		return end, true, err
	case c == '"':
		end, err = quoted(query, i, '"', false)
		return end, true, err
	case c == '-' && i+1 < len(query) && query[i+1] == '-':
		if j := strings.IndexByte(query[i:], '\n'); j >= 0 {
			return i + j + 1, true, nil
		}
		return len(query), true, nil
	case c == '/' && i+1 < len(query) && query[i+1] == '*':
		depth, j := 1, i+2
		for j < len(query) {
			switch {
			case strings.HasPrefix(query[j:], "/*"):
				depth++
				j += 2
			case strings.HasPrefix(query[j:], "*/"):
				depth--
				j += 2
				if depth == 0 {
					return j, true, nil
				}
			default:
				j++
			}
		}
		return 0, false, fmt.Errorf("pgexec: rewrite: unterminated comment at byte %d", i)
	case c == '$':
		// A $ inside a name never gets here: names are taken whole below.
		if tag, ok := dollarTag(query[i:]); ok {
			j := strings.Index(query[i+len(tag):], tag)
			if j < 0 {
				return 0, false, fmt.Errorf("pgexec: rewrite: unterminated dollar-quoted string at byte %d", i)
			}
			return i + len(tag) + j + len(tag), true, nil
		}
		return i + 1, false, nil
	case isIdentStart(c):
		j := i + 1
		for j < len(query) && isIdentByte(query[j]) {
			j++
		}
		// A name ending in E or e right before a quote (xE'...') is still a
		// name followed by a plain literal; the loop above stops at the quote.
		return j, false, nil
	}
	return i + 1, false, nil
}

// quoted returns the end of the quoted token whose opening quote is at
// query[i]: a doubled quote stands for itself, and in an escape string a
// backslash escapes the byte after it.
func quoted(query string, i int, q byte, backslash bool) (int, error) {
	for j := i + 1; j < len(query); j++ {
		switch query[j] {
		case '\\':
			if backslash {
				j++
			}
		case q:
			if j+1 < len(query) && query[j+1] == q {
				j++
				continue
			}
			return j + 1, nil
		}
	}
	what := "string literal"
	if q == '"' {
		what = "quoted identifier"
	}
	return 0, fmt.Errorf("pgexec: rewrite: unterminated %s at byte %d", what, i)
}

// dollarTag returns the opening tag of a dollar-quoted string at the start
// of s ($$ or $name$, the name not starting with a digit).
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '$':
			return s[:j+1], true
		case j == 1 && isDigit(c), !isIdentByte(c) || c == '$':
			return "", false
		}
	}
	return "", false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentByte(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }

// segment is a piece of a statement: code, or a literal, quoted name,
// comment or dollar quote (opaque), which a rewrite leaves as it is.
type segment struct {
	text   string
	opaque bool
}

// segments splits query as Rewrite reads it, joining adjacent code.
func segments(query string) ([]segment, error) {
	var out []segment
	for i := 0; i < len(query); {
		end, op, err := skip(query, i)
		if err != nil {
			return nil, err
		}
		if n := len(out); n > 0 && !op && !out[n-1].opaque {
			out[n-1].text += query[i:end]
		} else {
			out = append(out, segment{query[i:end], op})
		}
		i = end
	}
	return out, nil
}
