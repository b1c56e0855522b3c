package rules

import (
	"strings"
	"unicode"
)

// lexicon turns a customer's text into the words the cues are written in:
// lower case, accents folded, contractions expanded, texting shorthand,
// common misspellings and a little Spanish mapped to plain English, emojis
// mapped to what they say. It is built once per Suggester and read-only
// afterwards.
type lexicon struct {
	slang map[string][]string // one word to its replacement words
	known map[string]bool     // words the cues use: never fuzzy-corrected
	fuzzy map[byte][]string   // correction targets by first letter
}

func newLexicon(cueWords []string) *lexicon {
	lx := &lexicon{slang: map[string][]string{}, known: map[string]bool{}, fuzzy: map[byte][]string{}}
	for from, to := range slangTable() {
		for _, f := range strings.Split(from, ",") {
			lx.slang[f] = strings.Fields(to)
		}
	}
	for _, w := range cueWords {
		lx.known[w] = true
	}
	targets := append(cueWords, correctionTargets()...)
	seen := map[string]bool{}
	for _, w := range targets {
		// Only long, letter-only words are worth correcting towards: short
		// ones sit one typo away from too many ordinary words.
		if len(w) < 6 || seen[w] || strings.ContainsFunc(w, func(r rune) bool { return r < 'a' || r > 'z' }) {
			continue
		}
		seen[w] = true
		lx.fuzzy[w[0]] = append(lx.fuzzy[w[0]], w)
	}
	return lx
}

// tokens splits s into normalised words. "$" is kept as a word (it signals
// money); other punctuation separates words.
func (lx *lexicon) tokens(s string) []string {
	raw := splitWords(s)
	out := make([]string, 0, len(raw)+4)
	for i, w := range raw {
		switch w {
		case "y":
			// Alone, "y" is "yes"; inside a sentence it is "why".
			if len(raw) == 1 {
				out = append(out, "yes")
			} else {
				out = append(out, "why")
			}
			continue
		case "apt":
			// "apt 3b" is an apartment, "my apt tmrw" an appointment.
			if i+1 < len(raw) && strings.ContainsAny(raw[i+1], "0123456789") {
				out = append(out, "apartment")
			} else {
				out = append(out, "appointment")
			}
			continue
		}
		for _, part := range expandContraction(w) {
			out = lx.appendWord(out, part)
		}
		// "never mind" is one word, not a "never" that negates what follows.
		if n := len(out); n >= 2 && out[n-2] == "never" && out[n-1] == "mind" {
			out = append(out[:n-2], "nevermind")
		}
	}
	return out
}

func (lx *lexicon) appendWord(out []string, w string) []string {
	if to, ok := lx.slang[w]; ok {
		return append(out, to...)
	}
	if !lx.known[w] {
		if strings.HasSuffix(w, "in") && lx.known[w+"g"] {
			return append(out, w+"g") // "comin" → "coming"
		}
		if c, ok := lx.correct(w); ok {
			if to, ok := lx.slang[c]; ok {
				return append(out, to...)
			}
			return append(out, c)
		}
	}
	return append(out, w)
}

// correct maps a misspelt word to the cue word it is closest to: one edit
// away for words of six to eight letters, two for longer ones, always with
// the same first letter (people rarely get that wrong).
func (lx *lexicon) correct(w string) (string, bool) {
	if len(w) < 6 || len(w) > 22 { // osaDistance holds words of up to 24 letters
		return "", false
	}
	maxDist := 1
	if len(w) >= 9 {
		maxDist = 2
	}
	best, bestDist := "", maxDist+1
	for _, c := range lx.fuzzy[w[0]] {
		if d := len(c) - len(w); d > maxDist || -d > maxDist {
			continue
		}
		if strings.HasPrefix(w, c) || strings.HasPrefix(c, w) {
			// "ignore" is not a misspelt "ignored": inflections mean what
			// they say, and prefix cues catch the ones that matter.
			continue
		}
		if d := osaDistance(w, c, maxDist); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best, best != ""
}

// osaDistance is the optimal string alignment distance (edits and adjacent
// transpositions) between two short ASCII words, or max+1 once it exceeds max.
func osaDistance(a, b string, limit int) int {
	var rows [3][26]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// splitWords lower-cases s, folds accents, turns emojis into words and
// splits on everything that is not a letter, a digit or an apostrophe
// inside a word.
func splitWords(s string) []string {
	var words []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			words = append(words, b.String())
			b.Reset()
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(foldAccent(unicode.ToLower(r)))
		case isApostrophe(r) && b.Len() > 0 && i+1 < len(rs) && unicode.IsLetter(rs[i+1]):
			b.WriteByte('\'')
		case r == '$':
			flush()
			words = append(words, "$")
		default:
			flush()
			if w := emojiWord(r); w != "" {
				words = append(words, w)
			}
		}
	}
	flush()
	return words
}

func isApostrophe(r rune) bool {
	switch r {
	case '\'', '’', '‘', '`', '´':
		return true
	}
	return false
}

// expandContraction splits "he'll" into "he will", keeps "don't" as "dont"
// (the cues spell negations that way) and drops any other apostrophe.
func expandContraction(w string) []string {
	i := strings.IndexByte(w, '\'')
	if i < 0 {
		return []string{w}
	}
	stem, tail := w[:i], w[i+1:]
	switch tail {
	case "t":
		if strings.HasSuffix(stem, "n") {
			return []string{stem + "t"} // don't → dont, can't → cant
		}
	case "ll":
		return []string{stem, "will"}
	case "re":
		return []string{stem, "are"}
	case "ve":
		return []string{stem, "have"}
	case "m":
		return []string{stem, "am"}
	case "d":
		return []string{stem, "would"}
	case "s":
		return []string{stem, "is"}
	}
	return []string{strings.ReplaceAll(w, "'", "")}
}

func foldAccent(r rune) rune {
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

// emojiWord says what an emoji means in a customer's text, or "".
func emojiWord(r rune) string {
	switch r {
	case '👍', '👌', '✅', '🆗', '✔', '🤝':
		return "ok"
	case '🙏', '❤', '💙', '💚', '💕', '💖', '🙌', '👏', '🥰', '😍', '💯', '🤩', '🥳':
		return "emothanks"
	case '😡', '🤬', '😠', '😤', '👎', '🖕', '💩':
		return "emoangry"
	case '🚨', '🆘', '⚠':
		return "emoalarm"
	case '💵', '💰', '💲', '🤑', '💸':
		return "$"
	}
	return ""
}

// slangTable maps texting shorthand, common misspellings and a few Spanish
// words (comma-separated keys) to the plain English the cues use.
func slangTable() map[string]string {
	return map[string]string{
		"u":             "you",
		"ur,yr":         "your",
		"r":             "are",
		"n":             "and",
		"ya,yall,youse": "you",
		"2day,tday":     "today",
		"2nite,tonite":  "tonight",
		"tmrw,tmr,tmw,tmrow,tmrrw,tomoro,tomorow,tommorow,tommorrow,tomorrw,tomorro,2moro,2morrow,2mrw,tomm,manana": "tomorrow",
		"thx,thnx,thanx,thnks,thks,tnx,ty,tyvm,thnk,thanks,thanksss,thankss":                                        "thanks",
		"tysm":                               "thanks so much",
		"thankyou,thanku":                    "thank you",
		"pls,plz,plez,plss,pleez,pleas,plse": "please",
		"wen,whn":                            "when",
		"wat,wut,wht,whta":                   "what",
		"hw":                                 "how",
		"hows":                               "how is",
		"whats,wats,wuts":                    "what is",
		"whens":                              "when is",
		"wheres":                             "where is",
		"whos":                               "who is",
		"thats":                              "that is",
		"theres":                             "there is",
		"hes":                                "he is",
		"shes":                               "she is",
		"youre":                              "you are",
		"theyre":                             "they are",
		"im":                                 "i am",
		"ive":                                "i have",
		"ill":                                "i will",
		"youll":                              "you will",
		"theyll":                             "they will",
		"itll":                               "it will",
		"gonna":                              "going to",
		"wanna":                              "want to",
		"gotta":                              "got to",
		"cuz,bc,coz,cos,bcuz":                "because",
		"nvm,nevermind,nvmd":                 "never mind",
		"rn":                                 "right now",
		"b4":                                 "before",
		"l8,l8t":                             "late",
		"l8r":                                "later",
		"appt,appmt,apptmt,appoinment,apointment,appointmnt,cita": "appointment",
		"resched":        "reschedule",
		"min,mins":       "minutes",
		"hr,hrs":         "hours",
		"sat":            "saturday",
		"mon":            "monday",
		"tues,tue":       "tuesday",
		"weds,wed":       "wednesday",
		"thurs,thur,thu": "thursday",
		"fri":            "friday",
		"def,deff":       "definitely",
		"prob,prolly":    "probably",
		"sry,srry,soz":   "sorry",
		"ok,okay,okey,okie,oki,k,kk,kay,okk,okok,oky,okays":     "ok",
		"yep,yup,yeah,yea,yeh,ye,yess,yesss,yas,si,yessir,yupp": "yes",
		"nope,nah": "no",
		"tech,techs,technician,technicians,tecnico,tecnicos": "tech",
		"cancle,cancell,cansel,cancl,cancelar,cancela":       "cancel",
		"reschedual,reschedul,rescedule,reshedule":           "reschedule",
		"emergancy,emergeny,emergencey,emerg":                "emergency",
		"gracias":                                            "thanks",
		"cuando":                                             "when",
		"que":                                                "what",
		"hora":                                               "time",
		"llega,llegan,viene,vienen":                          "arriving",
		"cuanto,cuanta":                                      "how much",
		"cuesta,costo,cuestan":                               "cost",
		"precio":                                             "price",
		"hoy":                                                "today",
		"bien":                                               "fine",
		"esta":                                               "is",
		"huele":                                              "smells",
		"casa":                                               "house",
		"agua":                                               "water",
		"fuga":                                               "leak",
		"inundacion,inundado,inundada,inundo":                "flooding",
		"urgente":                                            "urgent",
		"emergencia":                                         "emergency",
		"ayuda":                                              "help",
		"pagar,pago":                                         "pay",
		"chispas":                                            "sparks",
		"humo":                                               "smoke",
		"calefaccion":                                        "heat",
		"otro,otra":                                          "another",
		"dia":                                                "day",
		"factura":                                            "invoice",
	}
}

// correctionTargets are full words misspellings are corrected towards, for
// cues written as prefixes ("reschedul*").
func correctionTargets() []string {
	return []string{
		"reschedule", "appointment", "emergency", "cancellation", "technician", "electrician",
		"plumber", "tomorrow", "estimate", "invoice", "payment", "receipt", "financing",
		"disappointed", "frustrated", "ridiculous", "unacceptable", "terrible", "appreciate",
		"flooding", "flooded", "sparking", "smoking", "burning", "monoxide", "detector",
		"overflowing", "postpone", "available", "arriving", "arrival", "refund", "damaged",
		"scratched", "thanks", "confirmed", "driveway", "doorbell", "lockbox", "entrance",
		"expensive", "discount", "pricing", "charge", "complaint", "unprofessional",
	}
}
