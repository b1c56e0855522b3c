package store

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
)

// rawConn is what *sql.DB and *sql.Tx both offer.
type rawConn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// The hand-written statements below are written once, with ? placeholders,
// for both databases.
//
// On SQLite they go through bun, which formats the arguments into the text
// (times in bun's UTC text format, the same one its writes use, so stored and
// compared timestamps always share one lexically ordered format).
//
// On PostgreSQL they bypass bun's formatting and reach pgx with real $n
// parameters and an explicit cached-statement mode: each distinct text is
// then parsed once per connection and, after a few runs, executed with a
// generic plan. Formatting the arguments into the text would make every call
// a new statement to parse and plan, which is what the perf-anchor measured
// costing the inbox up to twice its time.

func (s *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if !s.pg() {
		return s.idb.ExecContext(ctx, query, args...)
	}
	q, a := pgStatement(query, args)
	start := time.Now()
	res, err := s.raw.ExecContext(ctx, q, a...)
	s.logQuery(ctx, query, start, err)
	return res, err
}

func (s *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if !s.pg() {
		return s.idb.QueryContext(ctx, query, args...)
	}
	q, a := pgStatement(query, args)
	start := time.Now()
	rows, err := s.raw.QueryContext(ctx, q, a...)
	s.logQuery(ctx, query, start, err)
	return rows, err
}

func (s *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if !s.pg() {
		return s.idb.QueryRowContext(ctx, query, args...)
	}
	q, a := pgStatement(query, args)
	start := time.Now()
	row := s.raw.QueryRowContext(ctx, q, a...)
	s.logQuery(ctx, query, start, row.Err())
	return row
}

// pgStatement numbers the ? placeholders of query ($1, $2, ...) and puts
// pgx's cached-statement mode in front of the arguments (pgx reads leading
// mode arguments as options, also through database/sql). The statements never
// contain a ? other than a placeholder.
func pgStatement(query string, args []any) (string, []any) {
	var b strings.Builder
	b.Grow(len(query) + 2*len(args))
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	a := make([]any, 0, len(args)+1)
	a = append(a, pgx.QueryExecModeCacheStatement)
	a = append(a, args...)
	return b.String(), a
}

func (s *DB) logQuery(ctx context.Context, query string, start time.Time, err error) {
	if !s.cfg.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	logQuery(ctx, s.cfg.log, query, start, err)
}

func logQuery(ctx context.Context, log *slog.Logger, query string, start time.Time, err error) {
	attrs := []slog.Attr{
		slog.String("query", query),
		slog.Duration("duration", time.Since(start)),
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	log.LogAttrs(ctx, slog.LevelDebug, "store: query", attrs...)
}

// queryLogger logs bun's queries at debug level.
type queryLogger struct{ log *slog.Logger }

func (h queryLogger) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (h queryLogger) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	if !h.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	logQuery(ctx, h.log, e.Query, e.StartTime, e.Err)
}
