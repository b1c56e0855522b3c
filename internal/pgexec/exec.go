package pgexec

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Config says how an Executor runs statements.
type Config struct {
	// TransactionPooling is set when the server is reached through a pooler
	// that hands each transaction a connection of its own (PgBouncer with
	// pool_mode=transaction): a statement prepared by name in one
	// transaction is not there in the next, so none is. Statements are
	// described once per connection and then run unnamed, in one round trip
	// (pgx's QueryExecModeCacheDescribe); the server plans each run afresh.
	// Without it, each statement is prepared once per connection by name
	// and then runs with its cached plan (QueryExecModeCacheStatement).
	TransactionPooling bool
	// Tracer, when set, is told of the round trips of pipelines, which run
	// below pgx's own tracing; set the same Tracer on the connections.
	Tracer *Tracer
}

// Executor runs the statements of a store on pgx connections: one way for
// every statement, with one retry of a statement the server's cache made
// fail (see Retryable). It holds no connection: each call runs on the one it
// is given. Safe for concurrent use.
type Executor struct {
	mode   pgx.QueryExecMode
	pooled bool
	tracer *Tracer
}

// New returns an Executor.
func New(cfg Config) *Executor {
	x := &Executor{mode: pgx.QueryExecModeCacheStatement, pooled: cfg.TransactionPooling, tracer: cfg.Tracer}
	if cfg.TransactionPooling {
		x.mode = pgx.QueryExecModeCacheDescribe
	}
	return x
}

// Mode returns the pgx mode single statements run in.
func (x *Executor) Mode() pgx.QueryExecMode { return x.mode }

// Retryable reports whether err is one a statement fails with when a
// connection's cached statement no longer matches the server, and that
// running it again (prepared afresh) cures:
//
//   - 0A000 "cached plan must not change result type": a migration changed
//     a table under a prepared statement;
//   - 26000 "prepared statement does not exist": the server lost it
//     (DEALLOCATE, or a pooler gave the session another connection).
//
// Such a failure happens before the statement changes anything.
func Retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "0A000" || pgErr.Code == "26000")
}

// Exec runs a statement that returns no rows. query has $n parameters
// (Rewrite). inTx says whether c is inside a transaction: outside one, a
// Retryable failure is retried once, pgx having dropped the statement from
// its cache on the failure, so the retry prepares it afresh. Inside one the
// failure has aborted the transaction, and a retry could only fail again:
// the error is returned, and the caller's next transaction prepares afresh.
func (x *Executor) Exec(ctx context.Context, c *pgx.Conn, inTx bool, query string, args ...any) (pgconn.CommandTag, error) {
	a := x.args(args)
	tag, err := c.Exec(ctx, query, a...)
	if err != nil && !inTx && Retryable(err) {
		tag, err = c.Exec(ctx, query, a...)
	}
	return tag, err
}

// Rows runs a statement and returns its rows, the first of them already
// read, so that a failure that comes with the first result (as a cached
// statement's does) is known here: the retry rule is Exec's. The caller
// closes the rows.
func (x *Executor) Rows(ctx context.Context, c *pgx.Conn, inTx bool, query string, args ...any) (pgx.Rows, error) {
	a := x.args(args)
	for attempt := 0; ; attempt++ {
		rows, err := c.Query(ctx, query, a...)
		if err == nil {
			more := rows.Next()
			if err = rows.Err(); err == nil {
				return &preloaded{Rows: rows, more: more, first: true}, nil
			}
			rows.Close()
		}
		if inTx || attempt > 0 || !Retryable(err) {
			return nil, err
		}
	}
}

// preloaded is rows whose first Next has been called.
type preloaded struct {
	pgx.Rows
	more, first bool
}

func (p *preloaded) Next() bool {
	if p.first {
		p.first = false
		return p.more
	}
	return p.Rows.Next()
}

// args puts the Executor's mode in front of args (pgx reads leading mode
// arguments as options).
func (x *Executor) args(args []any) []any {
	a := make([]any, 0, len(args)+1)
	a = append(a, x.mode)
	return append(a, args...)
}
