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
// (or gives the window); with no job it stays generic but useful. An
// emergency gets a reply saying help is being arranged, with a safety line
// for the danger named (gas, carbon monoxide, water, sewage, electrical,
// no heat), and every suggestion marked Urgent.
//
// # Reading customers' texts
//
// Texts are normalised before they are read: lower case, accents folded,
// contractions expanded, texting shorthand ("r u", "tmrw", "thx", "y", "k"),
// dropped g's ("comin"), common misspellings (corrected towards the words
// the rules use, one or two edits away), emojis (👍 is "ok", 🙏 is
// thanks, 😡 is anger) and a little Spanish ("cuando llega", "gracias",
// "huele a gas"). Cues are short word patterns, each voting for an intent with
// a weight; a cue right after a negation ("not an emergency", "dont cancel")
// does not count.
//
// # Precedence
//
// A text often carries several intents ("thanks! how much do I owe?"). The
// one answered first is the most important, in this order:
//
//	emergency > complaint > cancel > reschedule > eta > access >
//	pricing > payment > confirm > thanks > other
//
// A danger outranks everything; an unhappy customer outranks the
// logistics they mention; a cancellation outranks a move; questions that
// need an answer outrank acknowledgements. When a second intent is found
// (outside emergencies), the last suggestion answers it.
//
// testdata/labelled.tsv and testdata/holdout.tsv are customer texts labelled
// by hand; the tests report the classifier's accuracy on them and fail below
// 90%.
package rules
