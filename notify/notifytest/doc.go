// Package notifytest is the conformance suite every conversations.Notifier
// runs, as testing/slogtest is for slog handlers:
//
//	func TestConformance(t *testing.T) {
//		notifytest.Run(t, notifytest.Harness{New: func(t *testing.T) *notifytest.Backend {
//			... a fresh Notifier, and a Watch that observes what reaches one recipient
//		}})
//	}
//
// The rules: a notification reaches its recipient and no one else (not the
// same staff id in another business); Notify honours a cancelled context and
// a deadline while its backend stalls, returning an error that wraps the
// context's; it is safe for concurrent use; and a failing backend makes it
// return an error, never panic. A scenario the harness cannot set up (Break
// or Stall left nil) is skipped. Scenarios run in parallel, each on a fresh
// backend with its own business ids, and a failure names the rule it broke.
//
// The suite observes deliveries through Watchers the harness provides: an
// SSE client for notify/inapp, a fake push service's record for notify/push.
// Each delivery is checked for its type, thread and badge, which every
// Notifier conveys.
package notifytest
