// Package store is fieldtalk's persistence: the one implementation of
// conversations.Store (and of conversations.Jobs, for hosts that let
// fieldtalk keep their jobs' context), on github.com/uptrace/bun.
//
// One DB runs on either database:
//
//   - PostgreSQL in production (pgx v5 through database/sql, bun's
//     pgdialect). Several host instances can share it; the delivery queue
//     (store/outbox, on River) and the realtime fan-out between instances
//     (notify/inapp/pgbus, LISTEN/NOTIFY) run on the same database.
//   - SQLite as the embedded default (pure Go, no cgo): one file, WAL mode,
//     writers queued by a busy timeout and immediate transactions.
//
// Open connects; Migrate applies the embedded, numbered SQL migrations (one
// set per dialect), idempotently and safely from several processes at once.
// On a Citus cluster, Distribute (after Migrate, at every start) lays the
// tables out by tenant_id; every statement a request runs then routes to
// the one worker that holds the business (citus.go).
//
// The schema follows the measurements in docs/BENCHMARKS.md. Every table of
// business data carries tenant_id and every index leads with it but one:
// business_numbers_number, the index on the number alone. It is there on
// purpose: an inbound message names only the number it was sent to, so the
// lookup that finds the business cannot start from the business; and its
// uniqueness is what keeps a number provisioned to one business only. On
// Citus business_numbers is therefore a reference table, copied to every
// node, rather than distributed (citus.go). The migrations' bookkeeping
// table and River's tables (store/outbox) describe the schema and the
// queue, not a business, and carry no tenant_id. What a technician
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
// The statements the store writes by hand run on PostgreSQL through
// internal/pgexec, the one place they are executed: ? placeholders numbered
// ($n) outside literals and comments, each text prepared once per
// connection, one retry of a statement whose cached copy the server no
// longer matches (SQLSTATE 0A000 or 26000, outside a transaction), and
// pipelines that run several statements in one round trip. bun's query
// builders run the rest, through database/sql.
//
// Behind PgBouncer in transaction mode, open with WithTransactionPooling:
// nothing is prepared by name (each statement is described once per
// connection and runs unnamed), and code sharing the database asks
// TransactionPooling to avoid session state (store/outbox polls instead of
// listening).
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
// databases, on Citus and behind PgBouncer; internal/testdb gives tests fresh databases of
// each kind.
package store
