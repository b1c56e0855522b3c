// Package storetest is the conformance suite for conversations.Store. An
// implementation's tests call Run with a constructor for fresh stores:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) conversations.Store { return newStore(t) })
//	}
//
// Every scenario runs as a parallel subtest on its own store, under tenant,
// staff and job ids no other run uses, so a suite can also share one
// database. A failure names the rule of conversations.Store it broke.
//
// The centrepiece is a randomized differential test: it builds businesses,
// staff, jobs, assignments, threads, messages, reads and archives at random,
// keeps its own in-memory model of what it did, mutates both between checks,
// and requires every viewer's Inbox (all pages, every filter), Badge and
// GetThread to match what policy.Default's Scope allows in the model. The
// seeds it uses are logged when it fails; pass one back with Seed to replay.
//
// The optional abilities (conversations.InboundAppender and the others a
// conversations.FastStore has) are checked when a store has them, and through
// conversations.WithFallbacks when it does not, by the same scenarios; the
// differential also requires a store's own VisibleHistory, Badges and
// VisibleThreads to answer exactly as the fallbacks over its core methods.
// Plain hides a store's optional abilities: run the suite, or a Service's
// tests, over Plain(st) to check the fallbacks on that store.
// A store that implements conversations.PreferenceStore (an optional
// interface) is checked for it too: the Preferences scenario, and mutes and
// "exclude muted threads from the badge" in the differential test, where the
// model's badge leaves out the muted threads of whoever asked and its inbox
// keeps them. A store without it skips those.
package storetest
