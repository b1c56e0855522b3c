// Package conversations is fieldtalk's domain: threads, messages, drafts,
// suggestions and who may see them, the interfaces the domain needs from the
// outside world, and the use cases a host calls (Service, or its parts).
//
// It imports no adapter. Adapters implement its small interfaces:
//
//   - Channel: sends a message through one provider (channel/twilio for SMS,
//     channel/sendgrid for email, channel/inapp for staff messages).
//   - Suggester: proposes replies (suggest/rules, suggest/llm).
//   - Notifier: tells staff of new messages (notify/...).
//   - Store: persistence, implemented once by package store on PostgreSQL
//     and SQLite. Store is the core a new database implements plainly;
//     faster answers to hot calls are optional interfaces
//     (InboundAppender, VisibleHistoryReader, BadgesCounter,
//     VisibleThreadsFilter, StatusFromApplier), found by type assertion
//     once, when the Service is built (WithFallbacks), as database/sql finds
//     a driver's. Without them the Service answers from the core methods,
//     and store/storetest holds both to the same rules.
//   - QueueStore: a Store that carries its own Outbox (store/outbox's
//     Outbox.Store), so a message and its delivery job are written in one
//     transaction of one database.
//   - PreferenceStore, an optional interface of a Store, keeps
//     each person's notification preferences and mutes (preferences.go).
//   - Jobs and Timeline: the host's CRM (store ships table-backed versions).
//   - Policy: visibility (package policy has the product's rule).
//
// The use cases are split by who calls them, each part with its own
// constructor and config holding only what it uses:
//
//   - App (NewApp, AppConfig): the signed-in staff member's app: inbox,
//     threads, history, drafts, reads, badge, sending, suggestions, internal
//     threads.
//   - Sync (NewSync, SyncConfig): the host's CRM: staff, numbers, job
//     assignments, settings, opt-out look-ups.
//   - Hooks (NewHooks, HooksConfig): calls without a person: a provider's
//     webhooks (Receive, ApplyStatus, NumberOwner) and the host's automations
//     (Escalate, SendWorkflow). A webhook-only host needs no Suggester and
//     no Jobs (examples/hooksonly).
//   - Worker (NewWorker, WorkerConfig): the delivery queue's Deliver.
//
// App and Hooks queue work, so their configs take a QueueStore: a Store
// that cannot enqueue does not compile into them. Service embeds the four
// parts over one shared core and is built from one Config by NewService,
// for a host that wants everything (examples/server); its Store may be a
// plain Store, and then the calls that queue are ErrInvalid.
//
// Every use case that acts for a person takes a Viewer and is checked against
// the policy: a thread the viewer may not see is ErrForbidden (or ErrNotFound
// when it belongs to another business). Every bad input is a *FieldError
// wrapping ErrInvalid and changes nothing. Errors are checked with errors.Is
// against the sentinels in errors.go.
package conversations
