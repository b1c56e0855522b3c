package suggest

import (
	"strconv"
	"strings"
	"time"
	"unicode"
)

// MentionKind says what a Mention names.
type MentionKind int

const (
	// MentionClock is a time of day: "10:30", "3 pm", "around 10", "by noon",
	// "half past ten", "a las 5".
	MentionClock MentionKind = iota + 1
	// MentionDuration is a time from now: "in about an hour", "20 min out",
	// "en media hora".
	MentionDuration
	// MentionDay is a day: "Thursday", "tomorrow", "next week", "el jueves".
	MentionDay
)

// Day is the day a MentionDay names: a weekday, or one of the relative days.
type Day int

// Relative days; a weekday is Day(time.Weekday) (Sunday is 0).
const (
	DayToday Day = iota + 10
	DayTomorrow
	DayNextWeek
)

// Mention is a time, a span of time or a day found in a text, in English or
// Spanish, in digits or words.
type Mention struct {
	Kind MentionKind
	Text string // the words as found, lower case, accents folded
	// Minutes are the minutes past midnight a clock time can mean: one value
	// when the text says morning or afternoon ("3 pm", "10 de la mañana"),
	// two when it does not ("around 10" is 10:00 or 22:00).
	Minutes []int
	// Min and Max bound a duration ("10-15 min" is 10 and 15 minutes).
	Min, Max time.Duration
	Day      Day
	Question bool // the sentence holding it asks rather than states
}

// Mentions returns every time, duration and day in text. It is written for
// short replies and customer texts, and leans towards finding a time where
// there may be one: a bare number counts as a clock time only after a word
// that introduces one ("at", "around", "by", "a las"), or with "ish",
// "o'clock" or a meridiem; a number followed by a unit that is not time
// ("200 amp", "3 dogs", "$150") is no time at all.
func Mentions(text string) []Mention {
	var out []Mention
	for _, sn := range sentences(normalizeTime(text)) {
		toks := timeTokens(sn.text)
		lastClock := -1 // where the last clock time ended
		for i := 0; i < len(toks); {
			// "between 2 pm and 4", "8-10", "de 2 a 4": the end of a range
			// is a time because its start was.
			rangeEnd := i > 0 && lastClock == i-1 && rangeWord(toks[i-1])
			m, n := mentionAt(toks, i, rangeEnd)
			if n == 0 {
				i++
				continue
			}
			m.Text = strings.Join(toks[i:i+n], " ")
			m.Question = sn.question
			out = append(out, m)
			i += n
			if m.Kind == MentionClock {
				lastClock = i
			}
		}
	}
	return out
}

type sentence struct {
	text     string
	question bool
}

// normalizeTime lower-cases s, folds accents and spells "a.m." and "p.m."
// as "am" and "pm", so sentence breaks are not read into them.
func normalizeTime(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(FoldAccent(unicode.ToLower(r)))
	}
	out := b.String()
	for _, r := range [][2]string{{"a.m.", "am"}, {"p.m.", "pm"}, {"a. m.", "am"}, {"p. m.", "pm"}, {"a.m", "am"}, {"p.m", "pm"}} {
		out = strings.ReplaceAll(out, r[0], r[1])
	}
	return out
}

// sentences splits s at ".", "!", "?" and line breaks (a "." between digits,
// as in "10.30", is no break). A sentence that ends with "?" or opens with
// "¿" is a question.
func sentences(s string) []sentence {
	var out []sentence
	start := 0
	emit := func(end int, q bool) {
		t := strings.TrimSpace(s[start:end])
		if t != "" {
			out = append(out, sentence{text: t, question: q || strings.HasPrefix(t, "¿")})
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '.':
			if i > 0 && i+1 < len(s) && isDigit(s[i-1]) && isDigit(s[i+1]) {
				continue
			}
			fallthrough
		case '!', '\n':
			emit(i, false)
			start = i + 1
		case '?':
			emit(i, true)
			start = i + 1
		}
	}
	emit(len(s), false)
	return out
}

// timeTokens splits a sentence into words, numbers and the signs that
// matter to times: "$", "%", "-" between numbers and ":" inside them.
func timeTokens(s string) []string {
	var toks []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			toks = append(toks, b.String())
			b.Reset()
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ':' && b.Len() > 0 && i+1 < len(rs) && unicode.IsDigit(rs[i+1]):
			b.WriteRune(r)
		case r == '.' && b.Len() > 0 && i+1 < len(rs) && unicode.IsDigit(rs[i+1]) && i > 0 && unicode.IsDigit(rs[i-1]):
			b.WriteRune(':') // "10.30" is half past ten
		case r == '\'' || r == '’':
			// "o'clock" → "oclock"
		case r == '-' || r == '–' || r == '—':
			flush()
			toks = append(toks, "-")
		case r == '$' || r == '%' || r == '#':
			flush()
			toks = append(toks, string(r))
		default:
			flush()
		}
	}
	flush()
	return toks
}

// mentionAt reads a mention starting at toks[i] and returns it with the
// number of tokens it spans, or n == 0.
func mentionAt(toks []string, i int, rangeEnd bool) (Mention, int) {
	w := toks[i]
	next := func(k int) string {
		if i+k < len(toks) && i+k >= 0 {
			return toks[i+k]
		}
		return ""
	}
	if d, ok := dayWord(toks, i); ok {
		return Mention{Kind: MentionDay, Day: d}, 1 + boolInt(w == "next" || w == "proxima")
	}
	switch w {
	case "noon", "midday", "mediodia":
		return Mention{Kind: MentionClock, Minutes: []int{12 * 60}}, 1
	case "midnight", "medianoche":
		return Mention{Kind: MentionClock, Minutes: []int{0}}, 1
	case "half", "quarter":
		// "half past ten", "quarter to 11", "quarter past 2"
		if h, ok := hourWord(next(2)); ok {
			switch {
			case next(1) == "past" && w == "half":
				return clockMention(h, 30, 0, toks, i+3), 3
			case next(1) == "past":
				return clockMention(h, 15, 0, toks, i+3), 3
			case w == "quarter" && (next(1) == "to" || next(1) == "till" || next(1) == "of"):
				return clockMention((h+11)%12, 45, 0, toks, i+3), 3
			}
		}
	case "within":
		// "within the hour", "within 20 minutes"
		k := 1
		if next(k) == "the" || next(k) == "an" || next(k) == "a" {
			k++
			if next(k) == "next" {
				k++
			}
		}
		if unit, ok := timeUnit(next(k)); ok {
			return Mention{Kind: MentionDuration, Min: unit, Max: unit}, k + 1
		}
		if d, n := durationAt(toks, i+k); n > 0 {
			return d, k + n
		}
	}
	// "half an hour", "media hora", "an hour", "20 minutes", "10-15 min"
	if d, n := durationAt(toks, i); n > 0 {
		return d, n
	}
	// Digits that spell a time on their own: "10:30", "3pm", "11ish", "8-10".
	if h, m, mer, ok := clockToken(w); ok {
		if mer == 0 {
			mer = meridiemAfter(toks, i+1)
		}
		if _, isUnit := notTimeUnit(next(1)); isUnit {
			return Mention{}, 0
		}
		n := 1
		if next(1) == "am" || next(1) == "pm" {
			n++
		}
		return clockMention(h, m, mer, toks, i+n), n
	}
	if h, ok := hourWord(w); ok && (next(1) == "am" || next(1) == "pm") {
		return clockMention(h, 0, next(1)[0], toks, i+2), 2
	}
	// The start of a range of hours: "2 to 4", "8-10", "de 2 a 4".
	startsRange := false
	if _, ok := hourWord(w); ok && rangeWord(next(1)) && next(1) != "and" && next(1) != "y" {
		if _, ok := hourWord(next(2)); ok && !isUnitNext(toks, i+3) && next(-1) != "$" {
			startsRange = true
		}
	}
	// A bare hour after a word that introduces a time: "at 2", "around ten",
	// "by 5", "a las 5", "push it to 5".
	if rangeEnd || startsRange || introducesTime(toks, i) {
		if h, ok := hourWord(w); ok {
			if _, isUnit := notTimeUnit(next(1)); isUnit || next(1) == "-" && isNumber(next(2)) && isUnitNext(toks, i+3) {
				return Mention{}, 0
			}
			n, m := 1, 0
			switch {
			case next(1) == "y" && next(2) == "media":
				m, n = 30, 3
			case next(1) == "y" && next(2) == "cuarto":
				m, n = 15, 3
			case next(1) == "menos" && next(2) == "cuarto":
				h, m, n = (h+11)%12, 45, 3
			case next(1) == "thirty" || next(1) == "treinta":
				m, n = 30, 2
			case next(1) == "fifteen" || next(1) == "quince":
				m, n = 15, 2
			case next(1) == "forty" && next(2) == "five":
				m, n = 45, 3
			case next(1) == "oclock" || next(1) == "ish" || next(1) == "o" && next(2) == "clock":
				n += 1 + boolInt(next(1) == "o")
			}
			var mer byte
			if next(n) == "am" || next(n) == "pm" {
				mer = next(n)[0]
				n++
			} else {
				mer = meridiemAfter(toks, i+n)
			}
			return clockMention(h, m, mer, toks, i+n), n
		}
	}
	return Mention{}, 0
}

// durationAt reads "N unit", "N-M unit", "half an hour", "an hour",
// "a couple of hours", "media hora", "unos 20 minutos" at toks[i].
func durationAt(toks []string, i int) (Mention, int) {
	at := func(k int) string {
		if i+k < len(toks) {
			return toks[i+k]
		}
		return ""
	}
	w := at(0)
	switch {
	case w == "half" && (at(1) == "an" || at(1) == "a") && at(2) == "hour":
		return durMention(30*time.Minute, 30*time.Minute), 3
	case w == "media" && at(1) == "hora":
		return durMention(30*time.Minute, 30*time.Minute), 2
	case w == "unos" || w == "unas" || w == "like" || w == "about" || w == "around" || w == "approximately" || w == "roughly" || w == "maybe" || w == "como":
		if d, n := durationAt(toks, i+1); n > 0 {
			return d, n + 1
		}
		return Mention{}, 0
	case (w == "a" || w == "an" || w == "un" || w == "una" || w == "one") && (at(1) == "hour" || at(1) == "hora") && at(2) != "de":
		return durMention(time.Hour, time.Hour), 2
	case (w == "a" || w == "an") && (at(1) == "couple" || at(1) == "few") && at(2) == "of":
		if u, ok := timeUnit(at(3)); ok {
			return durMention(2*u, 3*u), 4
		}
	case (w == "a" || w == "an") && (at(1) == "couple" || at(1) == "few"):
		if u, ok := timeUnit(at(2)); ok {
			return durMention(2*u, 3*u), 3
		}
	case w == "couple" || w == "few" || w == "several" || w == "unos" || w == "varios" || w == "pocos":
		k := 1
		if at(1) == "of" {
			k++
		}
		if u, ok := timeUnit(at(k)); ok {
			return durMention(2*u, 5*u), k + 1
		}
	}
	lo, ok := numberWord(w)
	if !ok {
		return Mention{}, 0
	}
	hi, k := lo, 1
	if (at(1) == "-" || at(1) == "to" || at(1) == "or" || at(1) == "a" || at(1) == "o") && isNumber(at(2)) {
		hi, _ = numberWord(at(2))
		k = 3
	}
	if at(k) == "more" || at(k) == "mas" {
		k++
	}
	u, ok := timeUnit(at(k))
	if !ok || at(k+1) == "de" { // "una hora de llegada" is an arrival time, not an hour
		return Mention{}, 0
	}
	return durMention(time.Duration(lo)*u, time.Duration(hi)*u), k + 1
}

func durMention(lo, hi time.Duration) Mention {
	return Mention{Kind: MentionDuration, Min: lo, Max: hi}
}

func isUnitNext(toks []string, i int) bool {
	if i >= len(toks) {
		return false
	}
	_, ok := timeUnit(toks[i])
	_, other := notTimeUnit(toks[i])
	return ok || other
}

// clockMention builds a clock Mention for hour h (0-23, or 1-12 with
// meridiem mer 'a' or 'p', or 0 when unsaid), reading "in the afternoon",
// "de la tarde" from toks[after:] when mer is unsaid.
func clockMention(h, m int, mer byte, toks []string, after int) Mention {
	if mer == 0 {
		mer = meridiemAfter(toks, after)
	}
	switch {
	case h > 12 || h == 0:
		return Mention{Kind: MentionClock, Minutes: []int{(h%24)*60 + m}}
	case mer == 'a':
		return Mention{Kind: MentionClock, Minutes: []int{(h%12)*60 + m}}
	case mer == 'p':
		return Mention{Kind: MentionClock, Minutes: []int{(h%12+12)*60 + m}}
	}
	return Mention{Kind: MentionClock, Minutes: []int{(h%12)*60 + m, (h%12+12)*60 + m}}
}

// meridiemAfter reads "am", "pm", "in the morning", "this afternoon",
// "tonight", "de la tarde" at toks[i].
func meridiemAfter(toks []string, i int) byte {
	for k := i; k < len(toks) && k < i+3; k++ {
		switch toks[k] {
		case "am", "morning", "manana", "madrugada":
			return 'a'
		case "pm", "afternoon", "evening", "tonight", "tarde", "noche":
			return 'p'
		}
	}
	return 0
}

// clockToken parses "10:30", "10:30am", "3pm", "3p", "11ish" and the first
// half of a range ("8-10" arrives as "8", "-", "10" and the words around
// it decide).
func clockToken(w string) (h, m int, mer byte, ok bool) {
	body := w
	switch {
	case strings.HasSuffix(body, "ish"):
		body = strings.TrimSuffix(body, "ish")
	case strings.HasSuffix(body, "am"), strings.HasSuffix(body, "pm"):
		mer = body[len(body)-2]
		body = body[:len(body)-2]
	case len(body) > 1 && (strings.HasSuffix(body, "a") || strings.HasSuffix(body, "p")) && isDigit(body[len(body)-2]):
		mer = body[len(body)-1]
		body = body[:len(body)-1]
	}
	hs, ms, colon := strings.Cut(body, ":")
	if hs == "" || len(hs) > 2 || !allDigits(hs) {
		return 0, 0, 0, false
	}
	h, _ = strconv.Atoi(hs)
	if colon {
		if len(ms) != 2 || !allDigits(ms) {
			return 0, 0, 0, false
		}
		m, _ = strconv.Atoi(ms)
		if h > 23 || m > 59 {
			return 0, 0, 0, false
		}
		return h, m, mer, true
	}
	// A bare number is a time only with a meridiem or "ish".
	if (mer == 0 && !strings.HasSuffix(w, "ish")) || h < 1 || h > 12 {
		return 0, 0, 0, false
	}
	return h, 0, mer, true
}

// introducesTime reports whether the words before toks[i] make a bare
// number there a time of day.
func introducesTime(toks []string, i int) bool {
	if i == 0 {
		return false
	}
	prev := toks[i-1]
	switch prev {
	case "at", "around", "by", "before", "after", "until", "till", "til", "from", "between", "near",
		"approximately", "approx", "roughly", "like", "past", "las", "about":
		return true
	case "la": // "a la una"
		return toks[i] == "una" || toks[i] == "1"
	case "to", "for":
		// "push it to 5", "move me to 3", "still on for 2"
		if i >= 2 {
			switch toks[i-2] {
			case "it", "me", "us", "push", "move", "bump", "change", "switch", "on", "appointment", "slot":
				return true
			}
		}
	}
	return false
}

// rangeWord joins the two ends of a range of times.
func rangeWord(w string) bool {
	switch w {
	case "to", "and", "-", "till", "until", "til", "y", "a", "or", "o":
		return true
	}
	return false
}

// dayWord reads a day at toks[i]: a weekday in English or Spanish, "today",
// "tomorrow", "tonight", "next week" ("mañana" is tomorrow unless it is the
// morning: "la mañana", "de la mañana").
func dayWord(toks []string, i int) (Day, bool) {
	w := toks[i]
	switch w {
	case "sunday", "domingo":
		return Day(time.Sunday), true
	case "monday", "lunes":
		return Day(time.Monday), true
	case "tuesday", "tues", "martes":
		return Day(time.Tuesday), true
	case "wednesday", "weds", "miercoles":
		return Day(time.Wednesday), true
	case "thursday", "thurs", "jueves":
		return Day(time.Thursday), true
	case "friday", "viernes":
		return Day(time.Friday), true
	case "saturday", "sabado":
		return Day(time.Saturday), true
	case "today", "tonight", "hoy":
		return DayToday, true
	case "tomorrow", "tmrw":
		return DayTomorrow, true
	case "manana":
		if i > 0 && (toks[i-1] == "la" || toks[i-1] == "esta") {
			return 0, false
		}
		return DayTomorrow, true
	case "next":
		if i+1 < len(toks) && toks[i+1] == "week" {
			return DayNextWeek, true
		}
	case "proxima":
		if i+1 < len(toks) && toks[i+1] == "semana" {
			return DayNextWeek, true
		}
	}
	return 0, false
}

// spelledNumber reads a number written as a word, in English or Spanish.
func spelledNumber(w string) (int, bool) {
	switch w {
	case "one", "uno", "una":
		return 1, true
	case "two", "dos":
		return 2, true
	case "three", "tres":
		return 3, true
	case "four", "cuatro":
		return 4, true
	case "five", "cinco":
		return 5, true
	case "six", "seis":
		return 6, true
	case "seven", "siete":
		return 7, true
	case "eight", "ocho":
		return 8, true
	case "nine", "nueve":
		return 9, true
	case "ten", "diez":
		return 10, true
	case "eleven", "once":
		return 11, true
	case "twelve", "doce":
		return 12, true
	case "fifteen", "quince":
		return 15, true
	case "twenty", "veinte":
		return 20, true
	case "thirty", "treinta":
		return 30, true
	case "forty", "cuarenta":
		return 40, true
	case "fortyfive":
		return 45, true
	}
	return 0, false
}

// numberWord reads a whole number in digits (up to three) or words.
func numberWord(w string) (int, bool) {
	if w != "" && len(w) <= 3 && allDigits(w) {
		n, _ := strconv.Atoi(w)
		return n, true
	}
	return spelledNumber(w)
}

func isNumber(w string) bool { _, ok := numberWord(w); return ok }

// hourWord reads an hour of the clock, 1 to 12, in digits or words, or a
// digit token with its own minutes ("10:30" → 10).
func hourWord(w string) (int, bool) {
	if h, _, _, ok := clockToken(w); ok {
		return h, true
	}
	n, ok := numberWord(w)
	if !ok || n < 1 || n > 12 {
		return 0, false
	}
	return n, true
}

// timeUnit reads a unit of time.
func timeUnit(w string) (time.Duration, bool) {
	switch w {
	case "min", "mins", "minute", "minutes", "minuto", "minutos", "m":
		return time.Minute, true
	case "hour", "hours", "hr", "hrs", "hora", "horas", "h":
		return time.Hour, true
	}
	return 0, false
}

// notTimeUnit reads a word that makes the number before it something other
// than a time: amps, dollars, degrees, a count of things.
func notTimeUnit(w string) (string, bool) {
	switch w {
	case "amp", "amps", "v", "volt", "volts", "%", "percent", "dollars", "bucks", "usd", "dolares",
		"degrees", "grados", "days", "dias", "weeks", "semanas", "years", "anos", "times", "veces",
		"people", "dogs", "cats", "gallon", "gallons", "ft", "feet", "inch", "inches",
		"personas", "units", "unidades", "floors", "$":
		return w, true
	}
	return "", false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// FoldAccent folds the accents of Latin letters, so "mañana" and "manana",
// "miércoles" and "miercoles" read alike. The rules suggester reads
// customers' texts with it too.
func FoldAccent(r rune) rune {
	switch r {
	case 'á', 'à', 'â', 'ä', 'ã', 'å':
		return 'a'
	case 'é', 'è', 'ê', 'ë':
		return 'e'
	case 'í', 'ì', 'î', 'ï':
		return 'i'
	case 'ó', 'ò', 'ô', 'ö', 'õ':
		return 'o'
	case 'ú', 'ù', 'û', 'ü':
		return 'u'
	case 'ñ':
		return 'n'
	case 'ç':
		return 'c'
	}
	return r
}
