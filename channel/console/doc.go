// Package console is an SMS conversations.Channel (name "sms") for running
// without an SMS provider account: the embedded default, demos, local
// development. Instead of sending, it writes one readable line per message
// to an io.Writer (say os.Stdout) and returns a Receipt with a generated
// provider id, so everything upstream (queue, statuses, inbox) behaves as in
// production.
package console
