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
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"

	"github.com/fieldtalk/fieldtalk/conversations"
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
	s.traced(q, args)
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
	s.traced(q, args)
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
	s.traced(q, args)
	start := time.Now()
	row := s.raw.QueryRowContext(ctx, q, a...)
	s.logQuery(ctx, query, start, row.Err())
	return row
}

// pgStatement numbers the ? placeholders of query ($1, $2, ...) and puts
// pgx's cached-statement mode in front of the arguments (pgx reads leading
// mode arguments as options, also through database/sql).
func pgStatement(query string, args []any) (string, []any) {
	a := make([]any, 0, len(args)+1)
	a = append(a, pgx.QueryExecModeCacheStatement)
	a = append(a, args...)
	return numbered(query), a
}

// numbered numbers the ? placeholders of query: $1, $2, ... The statements
// never contain a ? other than a placeholder.
func numbered(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
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
	return b.String()
}

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
		args := make([]any, 0, len(st.slots)+1)
		args = append(args, pgx.QueryExecModeCacheStatement)
		for _, sl := range st.slots {
			args = append(args, v[sl])
		}
		s.traced(st.text, args[1:])
		err = s.withPgx(ctx, func(c *pgx.Conn) error {
			rows, err := c.Query(ctx, st.text, args...)
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
	conn := s.conn
	if conn == nil {
		c, err := s.root.DB.Conn(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		conn = c
	}
	return conn.Raw(func(dc any) error {
		return fn(dc.(*stdlib.Conn).Conn())
	})
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
