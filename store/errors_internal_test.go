package store

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/fieldtalk/fieldtalk/conversations"
)

type fakeSQLiteError struct{ code int }

func (e fakeSQLiteError) Error() string { return fmt.Sprintf("sqlite error %d", e.code) }
func (e fakeSQLiteError) Code() int     { return e.code }

// Classification goes by SQLSTATE and SQLite extended code only: an error
// whose text looks like a clash but carries no code is not one.
func TestClassifyByCode(t *testing.T) {
	cases := []struct {
		name     string
		err      error
		sentinel error
	}{
		{"pg unique", &pgconn.PgError{Code: "23505", Message: "anything"}, conversations.ErrConflict},
		{"pg unique wrapped", fmt.Errorf("insert: %w", &pgconn.PgError{Code: "23505"}), conversations.ErrConflict},
		{"pg foreign key", &pgconn.PgError{Code: "23503"}, conversations.ErrNotFound},
		{"pg check", &pgconn.PgError{Code: "23514", Message: "duplicate key value violates unique constraint"}, nil},
		{"sqlite unique", fakeSQLiteError{2067}, conversations.ErrConflict},
		{"sqlite primary key", fmt.Errorf("x: %w", fakeSQLiteError{1555}), conversations.ErrConflict},
		{"sqlite foreign key", fakeSQLiteError{787}, conversations.ErrNotFound},
		{"sqlite not null", fakeSQLiteError{1299}, nil},
		{"text only", errors.New("UNIQUE constraint failed: threads.id"), nil},
		{"pg connection failure (a Citus worker down)", &pgconn.PgError{Code: "08006", Message: "connection to the remote node failed"}, conversations.ErrUnavailable},
		{"pg shutting down", &pgconn.PgError{Code: "57P01"}, conversations.ErrUnavailable},
		{"broken connection", fmt.Errorf("query: %w", io.ErrUnexpectedEOF), conversations.ErrUnavailable},
		{"pg syntax", &pgconn.PgError{Code: "42601", Message: "connection"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := dbErr("op", c.err)
			for _, s := range []error{conversations.ErrConflict, conversations.ErrNotFound, conversations.ErrUnavailable} {
				if got, want := errors.Is(err, s), s == c.sentinel; got != want {
					t.Errorf("dbErr(%v): errors.Is(%v) = %v, want %v", c.err, s, got, want)
				}
			}
			if !errors.Is(err, c.err) {
				t.Errorf("dbErr must keep the driver error in the chain")
			}
		})
	}
}

func TestNumberedNumbersPlaceholders(t *testing.T) {
	q := numbered("SELECT ? FROM t WHERE a = ? AND (b, c) < (?, ?) AND d <> '?'")
	if want := "SELECT $1 FROM t WHERE a = $2 AND (b, c) < ($3, $4) AND d <> '?'"; q != want {
		t.Errorf("got %q, want %q", q, want)
	}
}

func TestPreview(t *testing.T) {
	long := ""
	for range 100 {
		long += "ü"
	}
	cases := map[string]string{
		"":                     "",
		"  hello\n\n  world  ": "hello world",
		long:                   long[:80*len("ü")],
		"a\tb":                 "a b",
	}
	for in, want := range cases {
		if got := preview(in); got != want {
			t.Errorf("preview(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	at := dbTime(timeAt(2024, 6, 1, 12, 0, 0, 123456000))
	c, err := decodeCursor(encodeCursor(at, "thread:with:colons"))
	if err != nil || !c.at.Equal(at) || c.id != "thread:with:colons" {
		t.Errorf("a cursor must decode to what was encoded: got %+v, %v", c, err)
	}
}

func timeAt(y, mo, d, h, mi, s, ns int) time.Time {
	return time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC)
}
