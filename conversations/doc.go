// Package conversations is fieldtalk's domain: threads, messages, drafts,
// suggestions and who may see them, the interfaces the domain needs from the
// outside world, and Service, the use cases a host calls.
//
// It imports no adapter. Adapters implement its small interfaces:
//
//   - Channel: sends a message through one provider (channel/twilio for SMS,
//     channel/sendgrid for email, channel/inapp for staff messages).
//   - Suggester: proposes replies (suggest/rules, suggest/llm).
//   - Notifier: tells staff of new messages (notify/...).
//   - Store: persistence, implemented once by package store on PostgreSQL
//     and SQLite. PreferenceStore, an optional interface of a Store, keeps
//     each person's notification preferences and mutes (preferences.go).
//   - Jobs and Timeline: the host's CRM (store ships table-backed versions).
//   - Policy: visibility (package policy has the product's rule).
//
// Every use case that acts for a person takes a Viewer and is checked against
// the policy: a thread the viewer may not see is ErrForbidden (or ErrNotFound
// when it belongs to another business). Every bad input is a *FieldError
// wrapping ErrInvalid and changes nothing. Errors are checked with errors.Is
// against the sentinels in errors.go.
package conversations
