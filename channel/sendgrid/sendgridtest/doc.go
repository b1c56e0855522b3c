// Package sendgridtest fakes Twilio SendGrid for tests, on loopback: a
// Server that speaks the v3 Mail Send API (it checks the API key and the
// request body as SendGrid does, answers 202 with an X-Message-Id and
// records every accepted email) and can be told to fail the way the real
// one does (a rate limit with X-RateLimit-Reset, a 5xx, a refusal with
// SendGrid's JSON error body, a hang, a connection dropped after the email
// was accepted); and a Signer that holds an ECDSA P-256 key pair, shows
// its public key as SendGrid does, and signs and posts Event Webhook
// batches exactly as SendGrid does, built from Events.
//
// It is importable so that hosts can test their own wiring against the
// same fake the sendgrid package's tests use.
package sendgridtest
