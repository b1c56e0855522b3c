package channel

import (
	"unicode/utf8"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Encoding is the character set an SMS body travels in.
type Encoding string

const (
	// GSM7 is the GSM 03.38 default alphabet: 7 bits a character, 160 in
	// one message, 153 in each part of a longer one.
	GSM7 Encoding = "GSM-7"
	// UCS2 is used as soon as one character is outside GSM-7: 16 bits a
	// UTF-16 unit, 70 in one message, 67 in each part of a longer one.
	UCS2 Encoding = "UCS-2"
)

// Segments is what a body costs to send as SMS.
type Segments struct {
	Encoding   Encoding
	Count      int // parts the carrier bills; 0 for an empty body
	Characters int // characters (Unicode code points), what MaxBodyRunes limits
	Units      int // GSM-7 septets or UTF-16 code units the body takes
}

// Single-message and per-part capacities. A part of a long message is
// shorter because its header (UDH) takes 6 bytes.
const (
	gsm7Single = 160
	gsm7Part   = 153
	ucs2Single = 70
	ucs2Part   = 67
)

// CountSegments says how many SMS parts body is sent in, for a cost preview
// before sending. GSM-7 extension characters (^ { } \ [ ] ~ | € and form
// feed) take two septets and are never split across parts; characters
// outside the Basic Multilingual Plane (most emoji) take two UTF-16 units and
// are never split either. A body conversations.CheckText refuses (not valid
// UTF-8, a control character other than tab or a line break, longer than
// conversations.MaxBodyRunes characters) is an error wrapping
// conversations.ErrInvalid.
func CountSegments(body string) (Segments, error) {
	if err := conversations.CheckText("body", body, conversations.MaxBodyRunes); err != nil {
		return Segments{}, err
	}
	n := utf8.RuneCountInString(body)
	s := Segments{Encoding: GSM7, Characters: n}
	if n == 0 {
		return s, nil
	}
	for _, r := range body {
		if gsm7Width(r) == 0 {
			s.Encoding = UCS2
			break
		}
	}
	width, single, part := gsm7Width, gsm7Single, gsm7Part
	if s.Encoding == UCS2 {
		width, single, part = utf16Width, ucs2Single, ucs2Part
	}
	for _, r := range body {
		s.Units += width(r)
	}
	if s.Units <= single {
		s.Count = 1
		return s, nil
	}
	// Fill parts greedily; a character that does not fit whole starts the
	// next part, which is what handsets and carriers do.
	used := 0
	s.Count = 1
	for _, r := range body {
		w := width(r)
		if used+w > part {
			s.Count++
			used = 0
		}
		used += w
	}
	return s, nil
}

func utf16Width(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// gsm7Width is the septets r takes in GSM-7, or 0 when GSM-7 cannot carry it.
func gsm7Width(r rune) int {
	if r < 0x80 {
		return gsm7ASCII[r]
	}
	switch r {
	case '€':
		return 2
	case '£', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', 'Ø', 'ø', 'Å', 'å', 'Δ', 'Φ', 'Γ', 'Λ', 'Ω',
		'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', 'Æ', 'æ', 'ß', 'É', '¤', '¡', 'Ä', 'Ö', 'Ñ', 'Ü', '§', '¿',
		'ä', 'ö', 'ñ', 'ü', 'à':
		return 1
	}
	return 0
}

// gsm7ASCII is the septet width of each ASCII character: 1 for the basic
// table, 2 for the extension table (escape + character), 0 for none.
var gsm7ASCII = func() (t [0x80]int) {
	for r := ' '; r <= '~'; r++ {
		t[r] = 1
	}
	t['`'] = 0 // the one printable ASCII character GSM-7 lacks
	for _, r := range "^{}\\[]~|" {
		t[r] = 2
	}
	t['\n'], t['\r'] = 1, 1
	t['\f'] = 2
	return t
}()
