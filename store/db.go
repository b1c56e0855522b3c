package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/sqliteshim"
	"go.opentelemetry.io/otel/trace"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/pgexec"
)

// Dialect names returned by (*DB).Dialect.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// sqliteParams make SQLite behave under concurrent use: WAL lets readers run
// beside the one writer, busy_timeout makes a second writer wait instead of
// failing with SQLITE_BUSY, and _txlock=immediate takes the write lock at
// BEGIN, so two transactions that read and then write queue up front instead
// of deadlocking on the lock upgrade. foreign_keys is off by default in SQLite.
var sqliteParams = []string{
	"_pragma=busy_timeout(10000)",
	"_pragma=journal_mode(WAL)",
	"_pragma=synchronous(NORMAL)",
	"_pragma=foreign_keys(1)",
	"_txlock=immediate",
}

// Option configures Open.
type Option func(*config)

type config struct {
	log      *slog.Logger
	now      func() time.Time
	maxConns int
	// distributed is set by Distribute: the schema is laid out on Citus,
	// and the statements that would not route to one shard give way to
	// ones that do.
	distributed atomic.Bool
	// trace, when set (tests only, see export_test.go), is told every
	// statement the store runs on PostgreSQL, with its arguments.
	trace  func(query string, args []any)
	tracer trace.Tracer // nil: no spans (WithTracerProvider)
	// pooled is set by WithTransactionPooling.
	pooled bool
}

// WithTransactionPooling says that PostgreSQL is reached through a pooler
// in transaction mode (PgBouncer's pool_mode=transaction), which gives each
// transaction whichever server connection is free: a statement prepared by
// name in one is missing from the next, and LISTEN cannot work. The store
// then prepares nothing by name: each statement is described once per
// connection and runs unnamed, in one round trip, planned on each run
// (pgx's QueryExecModeCacheDescribe), and pipelines run unnamed too. A
// schema change under a running store is then seen by its next statements
// without a retry, but a changed result type of a cached description fails
// once per connection. ConnConfig's connections use the same mode.
// Connections that must LISTEN (notify/inapp/pgbus; store/outbox, which
// polls instead under this option) need a direct URL. Ignored on SQLite.
func WithTransactionPooling() Option {
	return func(c *config) { c.pooled = true }
}

// WithLogger sets the logger. Queries are logged at debug level, migrations at
// info level. The default discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

// WithClock sets the clock used for timestamps the caller left zero (a
// thread's CreatedAt, a draft's UpdatedAt, a status report without a time).
// The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithMaxOpenConns caps the connection pool (and keeps that many idle, so
// PostgreSQL's per-connection statement cache survives). The default is four
// per GOMAXPROCS. An in-memory SQLite database always uses one connection,
// since each connection would otherwise see its own empty database.
func WithMaxOpenConns(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxConns = n
		}
	}
}

// DB is the fieldtalk store on one database. It implements
// conversations.Store and conversations.Jobs. A DB returned by Open is safe
// for concurrent use; the DB that Tx passes to its callback is bound to one
// transaction and must be used by one goroutine at a time.
type DB struct {
	cfg     *config
	root    *bun.DB
	idb     bun.IDB   // root or the bound transaction
	tx      *bun.Tx   // nil unless bound to a transaction
	conn    *sql.Conn // the bound transaction's connection, nil unless bound
	dialect string
	pgcfg   *pgx.ConnConfig // PostgreSQL only: how to open more connections (LISTEN, a job queue's listener)
	stmts   *sync.Map       // shaped statements by shape (sqlexec.go), shared with the bound DBs
	// x runs the statements on PostgreSQL (nil on SQLite); rt counts its
	// round trips. Both are shared with the bound DBs.
	x  *pgexec.Executor
	rt *pgexec.Tracer
}

var (
	_ conversations.Store = (*DB)(nil)
	_ conversations.Jobs  = (*DB)(nil)
)

// Open connects to the database named by dsn:
//
//   - "postgres://..." or "postgresql://..." opens PostgreSQL through pgx;
//   - "sqlite:PATH", "file:PATH" or a plain file path opens SQLite (pure Go),
//     in WAL mode with a busy timeout, foreign keys on and immediate
//     transactions.
//
// It checks that the database answers, but does not create tables: call
// Migrate. A malformed dsn is ErrInvalid; a database that cannot be reached
// is ErrUnavailable.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	cfg := &config{
		log:      slog.New(slog.DiscardHandler),
		now:      time.Now,
		maxConns: 4 * runtime.GOMAXPROCS(0),
	}
	for _, o := range opts {
		o(cfg)
	}
	var (
		bdb     *bun.DB
		dialect string
		pgcfg   *pgx.ConnConfig
		x       *pgexec.Executor
		rt      *pgexec.Tracer
	)
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		pcfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			// pgx's parse errors quote the DSN, password included; keep it out of logs.
			return nil, fmt.Errorf("store: open: malformed postgres dsn: %w", conversations.ErrInvalid)
		}
		// bun formats arguments into the SQL text, so its queries carry no
		// parameters: the simple protocol runs them in one round trip, where
		// pgx's default would prepare (and cache) every distinct text. The
		// hot statements opt back into cached prepared statements (sqlexec.go).
		pcfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
		pgcfg = pcfg.Copy()
		rt = &pgexec.Tracer{}
		pcfg.Tracer = rt
		x = pgexec.New(pgexec.Config{TransactionPooling: cfg.pooled, Tracer: rt})
		sqldb := stdlib.OpenDB(*pcfg)
		sqldb.SetMaxOpenConns(cfg.maxConns)
		sqldb.SetMaxIdleConns(cfg.maxConns)
		bdb = bun.NewDB(sqldb, pgdialect.New())
		dialect = DialectPostgres
	default:
		path, memory, err := sqliteDSN(dsn)
		if err != nil {
			return nil, err
		}
		sqldb, err := sql.Open(sqliteshim.ShimName, path)
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite: %w: %w", conversations.ErrInvalid, err)
		}
		n := cfg.maxConns
		if memory {
			n = 1
		}
		sqldb.SetMaxOpenConns(n)
		sqldb.SetMaxIdleConns(n)
		bdb = bun.NewDB(sqldb, sqlitedialect.New())
		dialect = DialectSQLite
	}
	if err := bdb.PingContext(ctx); err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("store: open %s: %w: %w", dialect, conversations.ErrUnavailable, err)
	}
	bdb.AddQueryHook(queryLogger{log: cfg.log, cfg: cfg})
	return &DB{cfg: cfg, root: bdb, idb: bdb, dialect: dialect, pgcfg: pgcfg, stmts: &sync.Map{}, x: x, rt: rt}, nil
}

// sqliteDSN turns "sqlite:PATH", "file:PATH" or "PATH" into a driver DSN
// with the parameters fieldtalk relies on, and says whether the database
// lives in memory.
func sqliteDSN(dsn string) (string, bool, error) {
	if dsn == "" {
		return "", false, fmt.Errorf("store: open: empty dsn: %w", conversations.ErrInvalid)
	}
	path := dsn
	switch {
	case strings.HasPrefix(dsn, "sqlite://"):
		path = strings.TrimPrefix(dsn, "sqlite://")
	case strings.HasPrefix(dsn, "sqlite:"):
		path = strings.TrimPrefix(dsn, "sqlite:")
	case strings.HasPrefix(dsn, "file:"):
		// The driver opens file: URIs itself.
	case strings.Contains(dsn, "://"):
		return "", false, fmt.Errorf("store: open: unsupported dsn scheme %q: %w", dsn[:strings.Index(dsn, "://")], conversations.ErrInvalid)
	}
	base, query, _ := strings.Cut(path, "?")
	if base == "" || base == "file:" {
		return "", false, fmt.Errorf("store: open: empty sqlite path: %w", conversations.ErrInvalid)
	}
	if _, err := url.ParseQuery(query); err != nil {
		return "", false, fmt.Errorf("store: open: malformed sqlite parameters: %w: %w", conversations.ErrInvalid, err)
	}
	memory := strings.Contains(base, ":memory:") || strings.Contains(query, "mode=memory")
	params := strings.Join(sqliteParams, "&")
	if query != "" {
		params = query + "&" + params
	}
	return base + "?" + params, memory, nil
}

// Close closes the database. On a DB bound to a transaction it does nothing:
// the transaction belongs to Tx.
func (s *DB) Close() error {
	if s.tx != nil {
		return nil
	}
	if err := s.root.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Bun returns the underlying bun database, for code that shares it (a job
// queue, LISTEN/NOTIFY).
func (s *DB) Bun() *bun.DB { return s.root }

// SQL returns the underlying database/sql handle.
func (s *DB) SQL() *sql.DB { return s.root.DB }

// ConnConfig returns a copy of the PostgreSQL connection settings, for code
// that needs connections of its own on the same database (LISTEN/NOTIFY, a
// job queue's listener); nil on SQLite.
func (s *DB) ConnConfig() *pgx.ConnConfig {
	if s.pgcfg == nil {
		return nil
	}
	c := s.pgcfg.Copy()
	c.DefaultQueryExecMode = s.x.Mode()
	return c
}

// TransactionPooling reports whether the DB was opened
// WithTransactionPooling on PostgreSQL: code sharing the database must then
// not rely on session state, named prepared statements or LISTEN.
func (s *DB) TransactionPooling() bool { return s.pg() && s.cfg.pooled }

// SQLTx returns the database/sql transaction a Store passed by Tx is bound
// to, so that code sharing the database (a job queue) can write in the same
// transaction. ok is false for a Store that is not a transaction-bound *DB
// (or a wrapper of one).
func SQLTx(st conversations.Store) (tx *sql.Tx, ok bool) {
	db, isDB := boundDB(st)
	if !isDB {
		return nil, false
	}
	return db.tx.Tx, true
}

// boundDB finds the transaction-bound *DB st is, looking through Stores
// that wrap one (an Unwrap method, as storetest.Plain has).
func boundDB(st conversations.Store) (*DB, bool) {
	for {
		switch v := st.(type) {
		case *DB:
			return v, v.tx != nil
		case interface{ Unwrap() conversations.Store }:
			st = v.Unwrap()
		default:
			return nil, false
		}
	}
}

// Dialect returns DialectPostgres or DialectSQLite.
func (s *DB) Dialect() string { return s.dialect }

func (s *DB) pg() bool { return s.dialect == DialectPostgres }

func (s *DB) now() time.Time { return s.cfg.now() }

// Tx runs fn in one transaction with a Store bound to it; fn's error (or a
// panic) rolls everything back, and is returned as it is. On a DB already
// bound to a transaction, fn runs in that same transaction.
func (s *DB) Tx(ctx context.Context, fn func(tx conversations.Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	return s.begin(ctx, func(tx *DB) error { return fn(tx) })
}

func (s *DB) bind(tx bun.Tx, conn *sql.Conn) *DB {
	return &DB{cfg: s.cfg, root: s.root, idb: tx, tx: &tx, conn: conn, dialect: s.dialect, pgcfg: s.pgcfg, stmts: s.stmts, x: s.x, rt: s.rt}
}

// atomic runs fn so that its writes commit or roll back together: in a new
// transaction, or, on a bound DB, in a savepoint, so a method that fails
// leaves the caller's transaction as it found it (on PostgreSQL a failed
// statement would otherwise poison the whole transaction).
func (s *DB) atomic(ctx context.Context, fn func(tx *DB) error) error {
	if s.tx != nil {
		return s.runTx(ctx, s.tx.BeginTx, s.conn, fn)
	}
	return s.begin(ctx, fn)
}

// begin runs fn in a new transaction, begun on a connection taken for it:
// database/sql leads from a *sql.Conn to the driver's connection, not from a
// *sql.Tx, and the reads that use pgx's own interface (read in sqlexec.go)
// must run on the transaction's connection.
func (s *DB) begin(ctx context.Context, fn func(tx *DB) error) (err error) {
	ctx, end := s.span(ctx, "store.tx", "")
	defer func() { end(err) }()
	conn, err := s.root.Conn(ctx)
	if err != nil {
		return dbErr("begin", err)
	}
	defer conn.Close()
	return s.runTx(ctx, conn.BeginTx, conn.Conn, fn)
}

// runTx begins (a transaction or a savepoint) on conn, runs fn and commits,
// or rolls back on fn's error or panic.
func (s *DB) runTx(ctx context.Context, begin func(context.Context, *sql.TxOptions) (bun.Tx, error), conn *sql.Conn, fn func(tx *DB) error) error {
	tx, err := begin(ctx, nil)
	if err != nil {
		return dbErr("begin", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	if err := fn(s.bind(tx, conn)); err != nil {
		return err
	}
	committed = true
	if err := tx.Commit(); err != nil {
		return dbErr("commit", err)
	}
	return nil
}
