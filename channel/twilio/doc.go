// Package twilio sends and receives SMS/MMS through Twilio: a
// conversations.Channel (name "sms") on the twilio-go SDK, and the
// http.Handlers for Twilio's inbound-message and status-callback webhooks.
//
// Sending. Channel.Send sends from the business's own number
// (Outbound.From) or through its Messaging Service (Outbound.MessagingService)
// and never from anything else. Each message's status callback URL carries
// our message id and tenant, so delivery reports correlate even before the
// Twilio sid is stored. Failures come back as *conversations.ProviderError
// whose Class tells the delivery worker what a retry can do: OptedOut for a
// customer who texted STOP (21610); Permanent for a bad or unreachable number
// or carrier filtering; Retryable, with Twilio's Retry-After, for rate limits
// and for anything that failed before the request left; MaybeSent when
// Twilio may have the message but its answer was lost (5xx, a dropped
// connection, a timeout after the request was written). Find
// (conversations.Finder) settles a MaybeSent before anything is sent again.
// The SDK takes no context; the Channel gives every call an HTTP transport
// bound to the caller's context, so cancellation and deadlines are real.
//
// Receiving. Webhooks serves two handlers. Each checks X-Twilio-Signature
// over the public URL Twilio was configured with (Config.PublicURL plus the
// request's path and query, never the Host header, which a proxy rewrites),
// limits the body size, hands a verified message to a Receiver
// (*conversations.Hooks is one, and so *conversations.Service) and answers with empty TwiML. The Receiver
// dedupes repeated deliveries by Twilio's MessageSid.
//
// twiliotest fakes Twilio's REST API and signs webhooks for tests.
package twilio
