// Package channeltest checks that a conversations.Channel keeps the rules
// its documentation states, and gives other packages a recording fake.
//
// Every adapter's tests call Run with a Harness that makes a fresh channel
// per scenario:
//
//	func TestConformance(t *testing.T) {
//		channeltest.Run(t, channeltest.Harness{
//			New: func(t *testing.T) channeltest.Setup {
//				ch := ... // a fresh channel, talking to a fake provider
//				return channeltest.Setup{Channel: ch, Outbound: validMessage, ...}
//			},
//			Features: channeltest.Features{Faults: true, Stall: true, Addressed: true},
//		})
//	}
//
// Scenarios run as parallel subtests, each with its own channel and unique
// message ids, and skip what Features says the adapter cannot do. A failure
// message names the rule that was broken.
//
// Fake is a Channel for the tests of code that sends (the delivery worker):
// it records every call, answers from a script of receipts and errors, and
// can be slow or hang.
package channeltest
