// Package store is fieldtalk's persistence: the one implementation of
// conversations.Store (and of conversations.Jobs, for hosts that let
// fieldtalk keep their jobs' context), on github.com/uptrace/bun.
//
// One DB runs on either database:
//
//   - PostgreSQL in production (pgx v5 through database/sql, bun's
//     pgdialect). Several host instances can share it; later parts of
//     fieldtalk run their job queue and LISTEN/NOTIFY fan-out on the same
//     database through Bun and SQL.
//   - SQLite as the embedded default (pure Go, no cgo): one file, WAL mode,
//     writers queued by a busy timeout and immediate transactions.
//
// Open connects; Migrate applies the embedded, numbered SQL migrations (one
// set per dialect), idempotently and safely from several processes at once.
// On a Citus cluster, Distribute (after Migrate, at every start) lays the
// tables out by tenant_id; every statement a request runs then routes to
// the one worker that holds the business (citus.go).
//
// The schema follows the measurements in the project's perf-anchor: every
// table carries tenant_id and every index leads with it; what a technician
// may see is kept as data (staff_thread_visibility, maintained whenever
// participants, job links or assignments change), with copies of each
// thread's sort key, state and the reader's horizon (moved by every message,
// archive and read of the thread), so that a technician's inbox page is a
// walk that stops after one page and their badge a sum over one index; a
// dispatcher's badge comes from counters maintained in the same transaction
// as the message, read or archive that moves them; the inbox is keyset-paged
// on (last_message_at, id). Everything that lists
// filters in SQL. The hot statements run on PostgreSQL as cached prepared
// statements.
//
// DB also implements conversations.PreferenceStore (preferences.go): each
// staff member's notification preferences and muted threads, read for all
// of a notification's recipients in one statement; Badge and Badges leave a
// person's muted threads out when their preferences ask.
//
// Repository code takes bun.IDB, so every method runs inside or outside a
// transaction: Tx binds a DB to one, and methods that write several rows use
// a savepoint when already inside one, so a failed call leaves the caller's
// transaction usable.
//
// store/storetest is the conformance suite this package passes on both
// databases and on Citus; internal/testdb gives tests fresh databases of
// each kind.
package store
