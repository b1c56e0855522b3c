// Package channel holds what every conversations.Channel adapter shares:
// phone numbers parsed into E.164 (ParsePhone), the SMS segment count a sender
// is shown before sending (CountSegments). Finding the Channel an outbound
// message travels on is the delivery Worker's (conversations.Config.Channels,
// keyed by Name()).
//
// The adapters live in subpackages named after what they talk to: twilio
// (SMS/MMS through Twilio, with its webhooks), console (prints what would be
// sent, for the embedded default with no SMS account), inapp (internal staff
// messages). channeltest is the conformance suite every adapter runs, and a
// recording fake for the tests of code that uses a Channel.
//
// Nothing here keeps global state.
package channel
