package sendgrid

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// textBody is the text/plain part: the body as written, then each media
// URL on a line of its own (email has no MMS; a link reaches the same file).
func textBody(body string, media []conversations.Media) string {
	var b strings.Builder
	b.WriteString(body)
	for i, m := range media {
		switch {
		case i == 0 && strings.TrimSpace(body) != "":
			b.WriteString("\n\n")
		case i > 0:
			b.WriteString("\n")
		}
		b.WriteString(m.URL)
	}
	return b.String()
}

// htmlBody is the text/html part: the same text, escaped, its blank-line
// separated paragraphs as <p> and single line breaks as <br>, then the
// media as links. Nothing of the body is interpreted as markup. It exists
// because mail clients render a text-only email in a fixed font, and
// SendGrid's open tracking (an engagement event that proves delivery)
// needs an HTML part to work.
func htmlBody(body string, media []conversations.Media) string {
	var b strings.Builder
	text := strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\r", "\n")
	for _, para := range strings.Split(text, "\n\n") {
		para = strings.Trim(para, "\n")
		if strings.TrimSpace(para) == "" {
			continue
		}
		b.WriteString("<p>")
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				b.WriteString("<br>")
			}
			b.WriteString(html.EscapeString(line))
		}
		b.WriteString("</p>\n")
	}
	for _, m := range media {
		u := html.EscapeString(m.URL)
		b.WriteString(`<p><a href="` + u + `">` + u + "</a></p>\n")
	}
	return b.String()
}

// isControl reports control characters, line breaks included.
func isControl(r rune) bool { return unicode.IsControl(r) }

// clean makes s fit for a log line or a sender's screen: invalid UTF-8
// and control characters become spaces, runs of spaces one, and a longer
// text is cut on a rune boundary and ends with "…", within limit bytes.
func clean(s string, limit int) string {
	s = strings.ToValidUTF8(s, " ")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if len(s) <= limit {
		return s
	}
	const ellipsis = "…"
	cut := limit - len(ellipsis)
	if cut <= 0 {
		return ""
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
