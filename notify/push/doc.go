// Package push sends fieldtalk's notifications to phones, for when the app
// is not open: every inbound message, with the recipient's badge, and the
// badge updates that keep their other devices in step.
//
// Two conversations.Notifiers:
//
//   - FCM pushes through Firebase Cloud Messaging's HTTP v1 API to every
//     device token registered for the recipient (Devices: *store.DB keeps
//     them per staff member, per business). It authenticates with a
//     service-account key: a JWT signed with the key (RS256) is traded for an
//     OAuth access token, cached until shortly before it expires. Tokens FCM
//     reports as gone (UNREGISTERED, or INVALID_ARGUMENT for the token) are
//     removed; 429 and 5xx answers are retried with backoff a bounded number
//     of times, honouring Retry-After.
//   - Webhook POSTs each notification as JSON to the host's own push
//     gateway, signed with HMAC-SHA256 over a timestamp and the body;
//     VerifyWebhook is the gateway's side of that.
//
// A Renderer decides what a notification shows (DefaultRender: new inbound
// and team messages are shown, badge changes are silent, a failed delivery
// is shown to its sender). Whatever it decides, a push honours the
// recipient's preferences, which the Service puts on each notification: a
// Silent one (a muted thread, quiet hours, a push mode that leaves it out)
// only updates the badge, and a hidden preview shows HiddenTitle and nothing
// of the text. A shown push carries the thread's CollapseKey (the Android
// notification tag and apns-collapse-id; the web hook's collapse_key), so a
// phone shows one notification per thread. Both Notifiers take the HTTP
// client, logger and clock as options; FCM's endpoints are configurable so
// tests can point them at pushtest's fakes.
package push
