// Package twiliotest fakes Twilio for tests, on loopback: a Server that
// speaks the part of the REST API a messaging app uses (create, fetch and
// list Messages, with Twilio's JSON shapes and error bodies) and can be told
// to fail the way the real one does (rate limits, 5xx, an HTML 503 from the
// edge, a hang, a connection dropped after the message was accepted); and a
// WebhookClient that signs and posts inbound-message and status-callback
// webhooks exactly as Twilio does.
//
// It is importable so that hosts can test their own wiring against the same
// fake the twilio package's tests use.
package twiliotest
