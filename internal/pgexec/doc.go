// Package pgexec is the one place the store's own PostgreSQL statements
// run: the statements store writes by hand (bun's query builders format
// their arguments into the text and run through database/sql; River runs
// its own).
//
//   - Rewrite turns the ? placeholders the store writes for both databases
//     into $n, leaving literals, quoted names, comments and dollar quotes
//     alone; ?? is a literal ? (how the jsonb operators ?, ?| and ?& are
//     written).
//   - Executor runs statements on a pgx connection the caller holds: single
//     statements (Exec, Rows) and pipelines of several in one round trip
//     (Pipeline). By default each text is prepared once per connection by
//     name; with Config.TransactionPooling (PgBouncer in transaction mode)
//     nothing is prepared by name. A statement that fails because the
//     connection's cached statement no longer fits the server (Retryable:
//     SQLSTATE 0A000 or 26000) is retried once, prepared afresh, when it
//     ran outside a transaction; inside one, the failure has aborted the
//     transaction, so the error is returned.
//   - Tracer is a pgx tracer that counts round trips to the server, so that
//     tests can assert how many a use case takes.
//
// The package holds no connections and no global state.
package pgexec
