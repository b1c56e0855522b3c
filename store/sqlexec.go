package store

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/pgexec"
)

// The hand-written statements below are written once, with ? placeholders,
// for both databases.
//
// On SQLite they go through bun, which formats the arguments into the text
// (times in bun's UTC text format, the same one its writes use, so stored and
// compared timestamps always share one lexically ordered format).
//
// On PostgreSQL they bypass bun and database/sql and run through
// internal/pgexec on the pgx connection under the DB's database/sql
// connection (withPgx), with real $n parameters: each distinct text is
// parsed once per connection and, after a few runs, executed with a generic
// plan (or, behind a transaction pooler, described once and run unnamed:
// WithTransactionPooling). Formatting the arguments into the text would make
// every call a new statement to parse and plan, which is what the
// perf-anchor measured costing the inbox up to twice its time. pgexec is the
// one place they run: the ? rewrite, the retry of a statement the server's
// cache made fail, the pipeline and the round-trip count are there.

// rows is what *sql.Rows and the PostgreSQL rows of query both offer.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

func (s *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if !s.pg() {
		return s.idb.ExecContext(ctx, query, args...)
	}
	q := numbered(query)
	s.traced(q, args)
	start := time.Now()
	var tag pgconn.CommandTag
	err := s.withPgx(ctx, func(c *pgx.Conn) (err error) {
		tag, err = s.x.Exec(ctx, c, s.tx != nil, q, args...)
		return err
	})
	s.logQuery(ctx, query, start, err)
	if err != nil {
		return nil, err
	}
	return tagResult(tag), nil
}

// tagResult is a PostgreSQL command tag as a sql.Result.
type tagResult pgconn.CommandTag

func (r tagResult) RowsAffected() (int64, error) { return pgconn.CommandTag(r).RowsAffected(), nil }

func (r tagResult) LastInsertId() (int64, error) {
	return 0, errors.New("store: LastInsertId is not supported by PostgreSQL")
}

// query runs a statement and returns its rows, which the caller closes.
// On PostgreSQL the rows hold the connection they came from until then.
func (s *DB) query(ctx context.Context, query string, args ...any) (rows, error) {
	if !s.pg() {
		return s.idb.QueryContext(ctx, query, args...)
	}
	q := numbered(query)
	s.traced(q, args)
	start := time.Now()
	c, release, err := s.pgxConn(ctx)
	var r pgx.Rows
	if err == nil {
		if r, err = s.x.Rows(ctx, c, s.tx != nil, q, args...); err != nil {
			release()
		}
	}
	s.logQuery(ctx, query, start, err)
	if err != nil {
		return nil, err
	}
	return &pgRows{Rows: r, release: release}, nil
}

// column runs a statement whose rows are one text column and returns them
// in order.
func (s *DB) column(ctx context.Context, query string, args ...any) ([]string, error) {
	r, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []string
	for r.Next() {
		var v string
		if err := r.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, r.Err()
}

// pgRows are pgx rows that give their connection back when closed.
type pgRows struct {
	pgx.Rows
	release func()
}

func (r *pgRows) Close() error {
	r.Rows.Close()
	if r.release != nil {
		r.release()
		r.release = nil
	}
	return r.Rows.Err()
}

// queryRow runs a statement for its first row. On PostgreSQL it runs when
// the row is scanned; no row is sql.ErrNoRows (pgx.ErrNoRows is one).
func (s *DB) queryRow(ctx context.Context, query string, args ...any) scanner {
	if !s.pg() {
		return s.idb.QueryRowContext(ctx, query, args...)
	}
	return pgRow{s: s, ctx: ctx, query: query, args: args}
}

type pgRow struct {
	s     *DB
	ctx   context.Context
	query string
	args  []any
}

func (r pgRow) Scan(dest ...any) error {
	rows, err := r.s.query(r.ctx, r.query, r.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}

// numbered numbers the ? placeholders of query ($1, $2, ...), leaving
// literals, quoted names and comments as they are and turning ?? into ?
// (pgexec.Rewrite). The statements are the program's own: a malformed one is
// a bug, which the first test to run it finds.
func numbered(query string) string { return pgexec.MustRewrite(query) }

// A listing's statement is built from its shape (which parts of a scope it
// has, its filter, its page size, whether it starts from a cursor): every
// viewer with that shape runs the same text with other arguments. Builders
// therefore return the text with, for each ? placeholder, the slot its value
// comes from, and the DB keeps the text per shape in its dialect's form
// (numbered on PostgreSQL); a call fills the slots, and builds and numbers
// nothing.

// slot names where an argument of a shaped statement comes from.
type slot uint8

const (
	slotTenant slot = iota
	slotStaff
	slotThread
	slotAfterAt
	slotAfterID
	slotBefore
	slotLimit
	numSlots
)

// slotValues are one call's values, by slot.
type slotValues [numSlots]any

// args returns the arguments of a statement with the given slots.
func (v *slotValues) args(slots []slot) []any {
	a := make([]any, len(slots))
	for i, sl := range slots {
		a[i] = v[sl]
	}
	return a
}

// shaped is a statement in its dialect's form and the slot of each of its
// arguments. An empty text is a shape that selects nothing (a scope that
// allows nothing).
type shaped struct {
	text  string
	slots []slot
}

// statement returns the statement cached under key, building it on first
// use. key must identify everything build reads.
func (s *DB) statement(key any, build func() (string, []slot)) shaped {
	if st, ok := s.stmts.Load(key); ok {
		return st.(shaped)
	}
	text, slots := build()
	if s.pg() && text != "" {
		text = numbered(text)
	}
	st := shaped{text: text, slots: slots}
	s.stmts.Store(key, st)
	return st
}

// rowReader is what *sql.Rows and pgx.Rows both offer.
type rowReader interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// read runs st with v's values and, for each row, scans it into dest and
// calls fn; dest is built once by the caller and reused for every row.
//
// On PostgreSQL the rows come through pgx's own interface, on the connection
// database/sql holds for the DB (its transaction's, or one taken from the pool
// for the call): each column goes from the wire into its destination, without
// database/sql's driver.Value round trip and conversion per column, which the
// benchmark measured as most of what the store added to a listing's time. The
// statement keeps pgx's cached-statement mode, as on the database/sql path.
func (s *DB) read(ctx context.Context, st shaped, v *slotValues, dest []any, fn func() error) (err error) {
	ctx, end := s.span(ctx, "store.read", st.text)
	defer func() { end(err) }()
	start := time.Now()
	if s.pg() {
		args := v.args(st.slots)
		s.traced(st.text, args)
		err = s.withPgx(ctx, func(c *pgx.Conn) error {
			rows, err := s.x.Rows(ctx, c, s.tx != nil, st.text, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			return eachRow(rows, dest, fn)
		})
	} else {
		var rows *sql.Rows
		if rows, err = s.idb.QueryContext(ctx, st.text, v.args(st.slots)...); err == nil {
			err = eachRow(rows, dest, fn)
			if cerr := rows.Close(); err == nil {
				err = cerr
			}
		}
	}
	s.logQuery(ctx, st.text, start, err)
	return err
}

func eachRow(rows rowReader, dest []any, fn func() error) error {
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if err := fn(); err != nil {
			return err
		}
	}
	return rows.Err()
}

// withPgx runs fn on the pgx connection under the DB's database/sql
// connection: the bound transaction's, or one from the pool, held for the call.
func (s *DB) withPgx(ctx context.Context, fn func(*pgx.Conn) error) error {
	c, release, err := s.pgxConn(ctx)
	if err != nil {
		return err
	}
	defer release()
	return fn(c)
}

// pgxConn returns the pgx connection under the DB's database/sql connection
// (the bound transaction's, or one taken from the pool) and a function that
// gives it back. database/sql hands the driver's connection out only inside
// sql.Conn.Raw; the connection stays the caller's alone after Raw returns,
// for as long as the sql.Conn is held (until release), which lets rows
// outlive the call that opened them.
func (s *DB) pgxConn(ctx context.Context) (*pgx.Conn, func(), error) {
	conn, release := s.conn, func() {}
	if conn == nil {
		c, err := s.root.DB.Conn(ctx)
		if err != nil {
			return nil, nil, err
		}
		conn, release = c, func() { _ = c.Close() }
	}
	var pc *pgx.Conn
	if err := conn.Raw(func(dc any) error {
		pc = dc.(*stdlib.Conn).Conn()
		return nil
	}); err != nil {
		release()
		return nil, nil, err
	}
	return pc, release, nil
}

// traced tells the tracer, if any, of a statement about to run.
func (s *DB) traced(query string, args []any) {
	if s.cfg.trace != nil {
		s.cfg.trace(query, args)
	}
}

func (s *DB) logQuery(ctx context.Context, query string, start time.Time, err error) {
	if !s.cfg.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	logQuery(ctx, s.cfg.log, query, start, err)
}

// logQuery logs a statement's shape, never its values: bun formats
// arguments into the text (on SQLite always, on PostgreSQL for its query
// builders), and those are message bodies, phone numbers and names, which
// logs must not carry. The error is logged with phone numbers masked.
func logQuery(ctx context.Context, log *slog.Logger, query string, start time.Time, err error) {
	attrs := []slog.Attr{
		slog.String("query", sqlShape(query)),
		slog.Duration("duration", time.Since(start)),
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		attrs = append(attrs, slog.String("error", conversations.RedactPhones(err.Error())))
	}
	log.LogAttrs(ctx, slog.LevelDebug, "store: query", attrs...)
}

// sqlShape returns query with every literal (a quoted string, a number
// not part of a name) replaced by ?, so it reads as the statement's shape:
// the same for every call with other values. Quoted identifiers ("name")
// and $n placeholders stay.
func sqlShape(query string) string {
	var b strings.Builder
	b.Grow(len(query))
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '\'':
			// A string literal; '' inside it is a quote.
			i++
			for i < len(query) {
				if query[i] == '\'' {
					if i+1 < len(query) && query[i+1] == '\'' {
						i += 2
						continue
					}
					break
				}
				i++
			}
			i++
			b.WriteByte('?')
		case c == '"':
			j := strings.IndexByte(query[i+1:], '"')
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+2])
			i += j + 2
		case c >= '0' && c <= '9' && (i == 0 || !isNameByte(query[i-1])):
			for i < len(query) && (query[i] >= '0' && query[i] <= '9' || query[i] == '.') {
				i++
			}
			b.WriteByte('?')
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isNameByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// queryLogger logs bun's queries at debug level.
type queryLogger struct {
	log *slog.Logger
	cfg *config
}

func (h queryLogger) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (h queryLogger) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	if h.cfg.trace != nil {
		h.cfg.trace(e.Query, nil) // bun formats the arguments into the text
	}
	if !h.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	logQuery(ctx, h.log, e.Query, e.StartTime, e.Err)
}
