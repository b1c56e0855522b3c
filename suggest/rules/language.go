package rules

// Words that give a language away: short function words and the words
// customers open or close with. A text is in the language with the most of
// them; a tie, or none, is English, which the rules fall back to.
func languageWords() map[string]string {
	m := map[string]string{}
	for _, lw := range []struct {
		lang  string
		words []string
	}{
		{"en", []string{"the", "is", "are", "you", "u", "i", "im", "my", "it", "to", "and", "can", "we", "he", "she", "what", "when",
			"how", "will", "do", "does", "dont", "cant", "please", "pls", "thanks", "thank", "hi", "hey", "of", "for", "with",
			"just", "not", "still", "coming", "your", "this", "that", "there", "here", "be", "was", "have", "need", "ok", "yes"}},
		{"es", []string{"el", "la", "los", "las", "que", "de", "del", "por", "para", "una", "un", "mi", "es", "esta", "hay", "con",
			"se", "pero", "muy", "gracias", "hola", "porfavor", "porfa", "cuando", "donde", "necesito", "puede",
			"quiero", "tengo", "tenemos", "usted", "ustedes", "su", "nos", "al", "si", "lo", "le", "como", "cuanto",
			"buenas", "buenos", "dias", "tardes", "favor", "aqui", "todavia", "tambien", "vienen", "viene", "llega", "estan",
			"podemos", "pueden", "hace", "mucho", "nadie", "nunca", "ahi", "manana", "hoy", "ayer", "sigue",
			"cobraron", "puedo", "necesitamos", "pueden", "llave", "vecina", "vecino", "factura", "recibo", "cita"}},
		{"fr", []string{"le", "les", "est", "vous", "je", "merci", "bonjour", "quand", "pas", "une", "des", "et", "avec", "pour",
			"oui", "votre", "nous", "il", "heure", "ce", "cest", "suis"}},
		{"pt", []string{"voce", "obrigado", "obrigada", "nao", "sim", "quando", "hoje", "amanha", "uma", "com", "para", "meu",
			"minha", "tecnico", "chega", "vai", "ola", "bom", "dia", "esta"}},
	} {
		for _, w := range lw.words {
			// A word shared by several languages ("para", "esta") counts
			// for the first listed above.
			if _, seen := m[w]; !seen {
				m[w] = lw.lang
			}
		}
	}
	return m
}

// detectLanguage returns the BCP 47 tag of the language raw's words are in
// ("en", "es", "fr", "pt"), or "" when they give nothing away (a photo, an
// emoji, a code). table is languageWords().
func detectLanguage(raw []string, table map[string]string) string {
	counts := map[string]int{}
	for _, w := range raw {
		if l, ok := table[w]; ok {
			counts[l]++
		}
	}
	best, n := "", 0
	for _, l := range []string{"en", "es", "fr", "pt"} {
		if counts[l] > n {
			best, n = l, counts[l]
		}
	}
	return best
}
