package pgexec

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// Tracer counts the round trips to the server of the connections it is set
// on (pgx.ConnConfig.Tracer) and of the Executor it is given to: a round
// trip is one message exchange that waits for the server's answer.
//
//   - Query, QueryRow and Exec: one (pgx traces them whatever their mode).
//   - Prepare: one, when the server is asked (pgx's statement cache asks on
//     a connection's first run of a text; its describe modes ask on every
//     run or once per connection); none when pgx already has it.
//   - SendBatch: one.
//   - An Executor's pipeline: one, plus one when some of its statements
//     must be prepared (or described) first, all in that one exchange.
//
// Connecting is counted apart (Connects): it takes several exchanges (TLS,
// start-up, authentication) whatever a request then runs. Not counted: the
// deallocation pgx sends ahead of the next statement after a cached
// statement failed, and a ping database/sql sends to check an idle
// connection.
//
// A Tracer is safe for concurrent use; its zero value is ready.
type Tracer struct {
	roundTrips atomic.Int64
	connects   atomic.Int64
}

var (
	_ pgx.QueryTracer   = (*Tracer)(nil)
	_ pgx.PrepareTracer = (*Tracer)(nil)
	_ pgx.BatchTracer   = (*Tracer)(nil)
	_ pgx.ConnectTracer = (*Tracer)(nil)
)

// RoundTrips returns the round trips counted so far.
func (t *Tracer) RoundTrips() int64 { return t.roundTrips.Load() }

// Connects returns the connections opened so far.
func (t *Tracer) Connects() int64 { return t.connects.Load() }

func (t *Tracer) add(n int64) {
	if t != nil {
		t.roundTrips.Add(n)
	}
}

func (t *Tracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	t.add(1)
	return ctx
}

func (t *Tracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (t *Tracer) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	return ctx
}

func (t *Tracer) TracePrepareEnd(_ context.Context, _ *pgx.Conn, data pgx.TracePrepareEndData) {
	if !data.AlreadyPrepared {
		t.add(1)
	}
}

func (t *Tracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	t.add(1)
	return ctx
}

func (t *Tracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (t *Tracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (t *Tracer) TraceConnectStart(ctx context.Context, _ pgx.TraceConnectStartData) context.Context {
	t.connects.Add(1)
	return ctx
}

func (t *Tracer) TraceConnectEnd(context.Context, pgx.TraceConnectEndData) {}
