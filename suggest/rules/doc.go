// Package rules is fieldtalk's default reply suggester: deterministic,
// offline, no model, well under a millisecond per request. Hosts get it when
// they configure no model endpoint, and suggest.Chain falls back to it when
// the model is slow or wrong.
//
// It reads the request's last inbound message, decides what it is about (one
// of conversations.Intents) and writes two or three replies from the job's
// context: the technician's first name, the ETA or appointment window in the
// job's time zone, the address, the business's and the customer's names. A
// reply states only what the request holds: with no ETA it offers to check
// (or gives the window); with no job it stays generic but useful. It never
// says an action is done ("I'll add that to the job notes", not "I've
// added"), never names a price or a discount, and asks back a day or time
// the customer proposed ("Would Thursday at 5 PM work instead?") instead of
// confirming it. An emergency gets a reply saying help is being arranged,
// with a safety line for the danger named, and every suggestion marked
// Urgent. Every reply passes suggest.Validate.
//
// # Reading customers' texts
//
// Texts are normalised before they are read: lower case, accents folded,
// contractions expanded, texting shorthand, common misspellings, emojis, and
// Spanish words and phrases mapped to the English the cues are written in, so
// one cue table serves both languages. Punctuation and dashes split a text
// into clauses. Cues are short word patterns, each voting for an intent with
// a weight, never across a clause break. The structure around them counts:
//
//   - a negation up to three words before a cue, in its clause and with no
//     "but" or "just" between, votes against the cue's intent: "dont cancel,
//     I only want to know when he's coming" is about arrival, not a
//     cancellation;
//   - the days and times a text names (suggest.Mentions) turn "is saturday an
//     option" or "can we do 5" into a move, and are echoed in the reply;
//   - an install in the text turns noise into a complaint; lateness ("the
//     window passed") and proximity ("is he close") are questions about
//     arrival, and outrank the soft signs of a complaint ("nobody here yet").
//
// # Precedence
//
// A text often carries several intents ("thanks! how much do I owe?"). Among
// the ones it is clearly about (a score of 1.5 or more), the one answered
// first is the most important, in this order; intents it only hints at come
// after them:
//
//	emergency > complaint > cancel > reschedule > eta > access >
//	pricing > payment > confirm > thanks > other
//
// When a second intent is found (outside emergencies), the last suggestion
// answers it.
//
// # Languages
//
// The replies are data: templates/en.tsv and templates/es.tsv, each reply
// with the facts it needs. The language of the customer's text is detected
// (English, Spanish, French, Portuguese) and reported in
// Suggestion.Language; a language without a file gets English.
//
// README.md in this directory reports the accuracy on the labelled sets in
// testdata, the confusions and the latency; the tests fail below the targets
// written there.
package rules
