package store

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// SQLite extended result codes (sqlite3.h). They are spelled out rather than
// imported from modernc.org/sqlite/lib, which only builds on the platforms the
// pure-Go driver supports.
const (
	sqliteConstraintForeignKey = 787  // SQLITE_CONSTRAINT_FOREIGNKEY
	sqliteConstraintPrimaryKey = 1555 // SQLITE_CONSTRAINT_PRIMARYKEY
	sqliteConstraintUnique     = 2067 // SQLITE_CONSTRAINT_UNIQUE
)

// PostgreSQL SQLSTATEs.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

// sqliteCoder is the pure-Go SQLite driver's error (modernc.org/sqlite.Error).
type sqliteCoder interface{ Code() int }

// isUniqueViolation reports a unique-key clash by its SQLSTATE or SQLite
// extended code, never by message text.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == pgUniqueViolation
	}
	var lite sqliteCoder
	if errors.As(err, &lite) {
		c := lite.Code()
		return c == sqliteConstraintUnique || c == sqliteConstraintPrimaryKey
	}
	return false
}

// isForeignKeyViolation reports a reference to a row that does not exist.
func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == pgForeignKeyViolation
	}
	var lite sqliteCoder
	if errors.As(err, &lite) {
		return lite.Code() == sqliteConstraintForeignKey
	}
	return false
}

// isUnavailable reports a database that could not be reached: the
// connection failed or broke (SQLSTATE class 08, which is also what a Citus
// coordinator answers when the worker holding the tenant's shard is down),
// or the server is shutting down or starting up (57P01-57P03).
func isUnavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connErr) || errors.As(err, &netErr) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}

// dbErr wraps a database error for op with the sentinel it means: no row is
// ErrNotFound, a unique clash ErrConflict, a dangling reference ErrNotFound,
// an unreachable database (or Citus worker) ErrUnavailable.
func dbErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("store: %s: %w", op, conversations.ErrNotFound)
	case isUnavailable(err):
		return fmt.Errorf("store: %s: %w: %w", op, conversations.ErrUnavailable, err)
	case isUniqueViolation(err):
		return fmt.Errorf("store: %s: %w: %w", op, conversations.ErrConflict, err)
	case isForeignKeyViolation(err):
		return fmt.Errorf("store: %s: %w: %w", op, conversations.ErrNotFound, err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// notFound is the error for a row that is missing (or in another tenant).
func notFound(op, what string) error {
	return fmt.Errorf("store: %s: %s: %w", op, what, conversations.ErrNotFound)
}

// forbidden is the error for a row the caller's scope does not allow.
func forbidden(op, what string) error {
	return fmt.Errorf("store: %s: %s: %w", op, what, conversations.ErrForbidden)
}

// invalid is the error for bad input.
func invalid(op, field, reason string) error {
	return fmt.Errorf("store: %s: %w", op, conversations.Invalid(field, reason))
}
