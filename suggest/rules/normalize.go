package rules

import (
	"strings"
	"unicode"

	"github.com/fieldtalk/fieldtalk/suggest"
)

// lexicon turns a customer's text into the words the cues are written in:
// lower case, accents folded, contractions expanded, texting shorthand,
// common misspellings and a little Spanish mapped to plain English, emojis
// mapped to what they say. It is built once per Suggester and read-only
// afterwards.
type lexicon struct {
	slang   map[string][]string // one word to its replacement words
	phrases map[string][]string // two or three words ("en camino") to their replacement
	langs   map[string]string   // words that give a language away
	known   map[string]bool     // words the cues use: never fuzzy-corrected
	fuzzy   map[byte][]string   // correction targets by first letter
}

func newLexicon(cueWords []string) *lexicon {
	lx := &lexicon{slang: map[string][]string{}, phrases: map[string][]string{}, langs: languageWords(), known: map[string]bool{}, fuzzy: map[byte][]string{}}
	for _, table := range []map[string]string{slangTable(), spanishTable()} {
		for from, to := range table {
			for _, f := range strings.Split(from, ",") {
				if strings.Contains(f, " ") {
					lx.phrases[f] = strings.Fields(to)
				} else {
					lx.slang[f] = strings.Fields(to)
				}
			}
		}
	}
	for _, w := range cueWords {
		lx.known[w] = true
	}
	// Ordinary words one letter away from a cue word ("passed" from
	// "pissed") mean what they say.
	for _, w := range strings.Fields(plainWords) {
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
	return lx.read(raw, detectLanguage(raw, lx.langs) == "es")
}

// read normalises words split by splitWords; spanish says the text is in
// Spanish, where "y" is "and".
func (lx *lexicon) read(raw []string, spanish bool) []string {
	out := make([]string, 0, len(raw)+4)
	words := 0
	for _, w := range raw {
		if !isBreak(w) {
			words++
		}
	}
	for i := 0; i < len(raw); i++ {
		w := raw[i]
		// "en camino", "dos veces", "all over": a phrase is read whole.
		if i+1 < len(raw) {
			if i+2 < len(raw) {
				if to, ok := lx.phrases[raw[i]+" "+raw[i+1]+" "+raw[i+2]]; ok {
					out = append(out, to...)
					i += 2
					continue
				}
			}
			if to, ok := lx.phrases[raw[i]+" "+raw[i+1]]; ok {
				out = append(out, to...)
				i++
				continue
			}
		}
		if isBreak(w) {
			out = append(out, w)
			continue
		}
		switch w {
		case "y":
			// Alone, "y" is "yes"; inside an English sentence it is "why",
			// inside a Spanish one "and".
			switch {
			case words == 1:
				out = append(out, "yes")
			case spanish:
				out = append(out, "and")
			default:
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
			b.WriteRune(suggest.FoldAccent(unicode.ToLower(r)))
		case isApostrophe(r) && b.Len() > 0 && i+1 < len(rs) && unicode.IsLetter(rs[i+1]):
			b.WriteByte('\'')
		case r == '$':
			flush()
			words = append(words, "$")
		case r == '?' || r == '¿':
			flush()
			words = append(words, "?")
		case r == '.' || r == ',' || r == '!' || r == ';' || r == '\n' || r == '—' || r == '–' || r == '¡' || r == '(' || r == ')' ||
			r == '-' && (i == 0 || i+1 == len(rs) || rs[i-1] == ' ' || rs[i+1] == ' '):
			// Clause breaks: negation and cues do not reach across them.
			flush()
			if len(words) > 0 && !isBreak(words[len(words)-1]) {
				words = append(words, ",")
			}
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

// isBreak reports whether a token is a clause break ("," for . , ! ; and
// dashes, "?" for a question mark).
func isBreak(w string) bool { return w == "," || w == "?" }

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
		"tmrw,tmr,tmw,tmrow,tmrrw,tomoro,tomorow,tommorow,tommorrow,tomorrw,tomorro,2moro,2morrow,2mrw,tomm": "tomorrow",
		"thx,thnx,thanx,thnks,thks,tnx,ty,tyvm,thnk,thanks,thanksss,thankss":                                 "thanks",
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
		"appt,appmt,apptmt,appoinment,apointment,appointmnt": "appointment",
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
		"ok,okay,okey,okie,oki,k,kk,kay,okk,okok,oky,okays":  "ok",
		"yep,yup,yeah,yea,yeh,ye,yess,yesss,yas,yessir,yupp": "yes",
		"nope,nah":                                 "no",
		"tech,techs,technician,technicians":        "tech",
		"cancle,cancell,cansel,cancl":              "cancel",
		"reschedual,reschedul,rescedule,reshedule": "reschedule",
		"emergancy,emergeny,emergencey,emerg":      "emergency",
	}
}

// spanishTable maps Spanish words and phrases (accents folded) to the
// English the cues are written in, so one cue table serves both languages.
// Keys with a space are phrases, read before their words.
func spanishTable() map[string]string {
	return map[string]string{
		// Phrases.
		"en camino":                             "on the way",
		"a que hora,que hora,a q hora":          "what time",
		"cuanto falta,cuanto tarda,cuanto mas":  "how much longer",
		"dos veces,2 veces":                     "twice",
		"por todos lados,por todas partes":      "everywhere",
		"all over":                              "everywhere",
		"ya no":                                 "no longer",
		"mas tarde":                             "later",
		"mas temprano":                          "earlier",
		"en vez de,en lugar de":                 "instead of",
		"la proxima semana,la semana que viene": "next week",
		"no vengan,no venga,no vayan":           "dont come",
		"se soluciono,se arreglo,lo arreglamos,lo arregle,ya funciona": "got it fixed",
		"nos vemos,los esperamos,lo esperamos,la esperamos":            "see you",
		"de acuerdo":                 "ok",
		"por favor":                  "please",
		"muchas gracias,mil gracias": "thanks",
		"sigue viniendo,siguen viniendo,todavia vienen,todavia viene,siguen en camino,sigue en camino": "still coming",
		"mal servicio": "bad service",
		"no muerde":    "friendly",
		"hace ruido,hace mucho ruido,hace un ruido": "noise",
		"quien es,quien habla":                      "who is this",
		"se puede":                                  "can we",
		// Words.
		"gracias":      "thanks",
		"cuando":       "when",
		"que,q":        "what",
		"hora,horario": "time",
		"llega,llegan,viene,vienen,llegue,lleguen,llegara,llegaran": "arriving",
		"llego,vino,venido,llegado":                                 "came",
		"venir,vengan,venga":                                        "come",
		"cuanto,cuanta,cuantos":                                     "how much",
		"cuesta,costo,cuestan,costaria,costara,seria":               "cost",
		"cobran,cobra,cobrarian":                                    "charge",
		"cobraron,cobro":                                            "charged",
		"precio,precios":                                            "price",
		"descuento,descuentos":                                      "discount",
		"presupuesto,estimado,cotizacion":                           "estimate",
		"hoy":                                                       "today",
		"manana":                                                    "tomorrow",
		"bien":                                                      "fine",
		"esta,estan":                                                "is",
		"huele":                                                     "smells",
		"olor":                                                      "odor",
		"casa":                                                      "home",
		"agua":                                                      "water",
		"fuga":                                                      "leak",
		"inundacion,inundado,inundada,inundo":                       "flooding",
		"urgente":                                                   "urgent",
		"emergencia":                                                "emergency",
		"ayuda":                                                     "help",
		"pagar,pago,pague,pagamos":                                  "pay",
		"tarjeta":                                                   "card",
		"efectivo":                                                  "cash",
		"recibo":                                                    "receipt",
		"factura":                                                   "invoice",
		"chispas":                                                   "sparks",
		"humo":                                                      "smoke",
		"calefaccion":                                               "heat",
		"bebe":                                                      "baby",
		"frio":                                                      "freezing",
		"reviento,reventó,revento,rompio":                           "burst",
		"tubo,tuberia,cano":                                         "pipe",
		"otro,otra":                                                 "another",
		"dia":                                                       "day",
		"cita,visita":                                               "appointment",
		"cancelar,cancela,cancelen,cancelamos,cancelo,cancelemos": "cancel",
		"reprogramar,reagendar,reprogramemos":                     "reschedule",
		"cambiar,cambio,cambien":                                  "change",
		"mover,movemos,muevan":                                    "move",
		"podemos,podriamos":                                       "can we",
		"hacerlo":                                                 "do it",
		"mejor":                                                   "better",
		"necesito,necesitamos,necesita":                           "need",
		"servicio":                                                "service",
		"tecnico,tecnicos,plomero,electricista":                   "tech",
		"cerca":                                                   "close",
		"si":                                                      "yes",
		"perfecto,perfecta":                                       "perfect",
		"listo":                                                   "ok",
		"confirmo,confirmado,confirmada,confirmamos": "confirm",
		"codigo,clave":  "code",
		"porton,reja":   "gate",
		"puerta":        "door",
		"llave,llaves":  "key",
		"debajo":        "under",
		"tapete":        "mat",
		"perro,perros":  "dog",
		"gato,gatos":    "cat",
		"vecino,vecina": "neighbor",
		"estacione,estacionese,estacionar,estacionamiento": "park",
		"direccion":                          "address",
		"atras":                              "back",
		"abierta,abierto":                    "open",
		"excelente":                          "excellent",
		"amable":                             "friendly",
		"pesimo,horrible,terrible":           "terrible",
		"mal":                                "bad",
		"nadie":                              "nobody",
		"nunca":                              "never",
		"sigue,todavia":                      "still",
		"goteando,gotea":                     "dripping",
		"arreglaron,arreglo,arreglado":       "fixed",
		"ruido":                              "noise",
		"nuevo,nueva":                        "new",
		"instalaron,instalado,instalacion":   "installed",
		"contesta,contestan,responde":        "answers",
		"llamo,llamaron":                     "called",
		"tambien":                            "too",
		"estar,estare,estaremos,estara":      "be",
		"tiene,tienen,tengo":                 "has",
		"doble":                              "double",
		"puedo,puede,pueden":                 "can",
		"hace falta":                         "need",
		"no puedo,no podemos,no voy a poder": "cant make it",
		"no lo arreglaron,no lo arreglo,no quedo bien": "not fixed",
		"saliendo": "leaking",
	}
}

// plainWords are everyday words a letter away from a cue word, never
// corrected towards it.
const plainWords = `closed opened passed pasted parked person posted pissed ticked locked looked packed picked
	booked cooked hooked kicked licked mailed nailed sailed tailed called filled killed billed
	hosted costed coated boated floated loaded folded holded sounds rounds bounds founds`

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
