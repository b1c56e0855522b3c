// Package fieldtalk is the Conversations tab of a field-service business's
// mobile app, as a Go library: one inbox where a technician sees customer SMS
// threads and internal staff messages together, newest activity first;
// replies by SMS from the business's own number; reply suggestions built from
// the job; unread badges and push; delivery receipts; drafts that survive
// going offline and send exactly once.
//
// The module is laid out one responsibility per package:
//
//   - conversations: the domain types, the interfaces the domain needs, and
//     Service, the use cases a host calls. It imports no adapter.
//   - policy: who may see which thread (the visibility rule as data).
//   - store: the Store on PostgreSQL and SQLite (uptrace/bun), with
//     store/storetest, the suite any Store must pass.
//   - channel/...: message channels (Twilio SMS, SendGrid email, in-app) and
//     their conformance suite.
//   - suggest/...: reply suggesters (offline rules, any OpenAI-compatible model).
//   - notify/...: notifiers (realtime stream, push).
//   - examples/...: runnable hosts that wire it all together.
//
// Start with the README and examples/tour.
package fieldtalk
