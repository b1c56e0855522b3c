// Package console is an SMS conversations.Channel (name "sms") for running
// without an SMS provider account: the embedded default, demos, local
// development. Instead of sending, it writes one readable line per message
// to an io.Writer (say os.Stdout) and returns a Receipt with a generated
// provider id, so everything upstream (queue, statuses, inbox) behaves as in
// production.
//
// The line carries the whole SMS, numbers and body unmasked, unlike the
// library's logs (which never carry a body and mask numbers): it is not a
// log but the channel's output, what a provider would have delivered, and
// a developer playing the customer needs to read it. It goes to the writer
// the host chose, not to the logger; a host that must not print customer
// data uses a real provider instead.
package console
