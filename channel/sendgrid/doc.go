// Package sendgrid sends email through Twilio SendGrid and reads its
// delivery reports: a conversations.Channel (name "email") on the
// sendgrid-go SDK, and the http.Handler for SendGrid's signed Event
// Webhook. Email carries a business's automated workflow messages and
// anything else the host sends to a customer's address.
//
// Sending. Channel.Send posts one email to the v3 Mail Send API from the
// business's sender address (Outbound.From, which must be a sender
// identity verified in SendGrid) to the customer's address (Outbound.To),
// with Outbound.Subject and Outbound.Body as text (and the same text as
// minimal, escaped HTML). Every email carries our message id, tenant and
// thread as custom arguments (ArgMessage, ArgTenant, ArgThread), which
// SendGrid repeats on every event about it. SendGrid's acceptance (202)
// names the email by X-Message-Id, the Receipt's ProviderID. Failures come
// back as *conversations.ProviderError whose Class tells the delivery
// worker what a retry can do: Retryable for a rate limit (429, with the
// wait until X-RateLimit-Reset as RetryAfter) and for anything that failed
// before the request was written; Permanent for a refusal (400 invalid
// mail, 401 bad API key, 403 unverified sender, 413 too large), with
// SendGrid's own message in Reason; MaybeSent when SendGrid may have the
// email but its answer was lost (5xx, a dropped connection, a timeout after
// the request was written). SendGrid's Mail Send never refuses an
// unsubscribed recipient: it accepts the email and drops it, which the
// webhook reports, so Send never returns OptedOut.
//
// No Finder. SendGrid cannot look an email up by our id without the paid
// Email Activity add-on, so the Channel does not implement
// conversations.Finder, and the Service resends an email whose first
// attempt ended MaybeSent. The customer may then get it twice: a duplicate
// email is the lesser harm than a lost one. Both copies carry the same
// custom arguments, so their events update the one message.
//
// Receiving. Webhook checks the ECDSA signature SendGrid puts on every
// batch (SignatureHeader, TimestampHeader; the key from WebhookConfig) and
// the timestamp's freshness before it reads anything, then maps each event
// of ours to a conversations.StatusUpdate for the Receiver
// (*conversations.Hooks is one, and so *conversations.Service):
//
//	processed    → sending      accepted by SendGrid, not yet by the recipient's server
//	deferred     → (no change)  the recipient's server said "later"; logged
//	delivered    → delivered    the recipient's server accepted it
//	open, click  → delivered    reading it proves delivery
//	bounce       → undelivered  type bounce or blocked; the SMTP status is the ErrorCode
//	dropped      → failed       SendGrid would not send it (suppressed or invalid address, ...)
//
// Undelivered and failed updates carry a plain-language ErrorReason (the
// bounce classification or drop reason in a sender's words, with the
// receiving server's own words for a bounce).
//
// Each update names the message by our id (ArgMessage, ArgTenant) and
// carries the event's time and SendGrid's id (sg_message_id up to its
// first ".", which is the X-Message-Id). Events without our custom
// arguments (other mail of the same SendGrid account, some asynchronous
// bounces) are acknowledged and dropped. Webhook's documentation says which
// answers make SendGrid post a batch again.
//
// sendgridtest fakes the Mail Send API and signs event batches for tests.
package sendgrid
