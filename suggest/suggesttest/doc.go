// Package suggesttest is the conformance suite every conversations.Suggester
// runs, in the manner of testing/slogtest: an implementation's tests call
// Run with a constructor, and each failure names the rule of the
// conversations.Suggester contract that was broken.
//
// The rules it checks:
//   - 2 to 3 suggestions, each with non-empty text of at most
//     conversations.MaxSuggestionLength characters, distinct from the others,
//     a valid Intent, a Confidence in [0,1] and a Source;
//   - it works with a single inbound message and no job;
//   - a request without an inbound message is an error wrapping
//     conversations.ErrInvalid;
//   - it honours a cancelled context: it returns an error wrapping
//     context.Canceled, promptly;
//   - it is safe for concurrent use (run the suite under -race);
//   - it does not state an arrival time the job lacks: when neither the job
//     nor any message carries a time, no suggestion contains a clock time
//     ("2:30", "3 pm") or a "N minutes" promise.
//
// The package rules, llm (against a loopback fake) and the fallback chain in
// package suggest all pass it.
package suggesttest
