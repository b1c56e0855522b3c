package store

import (
	"context"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Hooks for the external tests: the statements the store runs (with ?
// placeholders), and its error classification.

// InboxStatement is the inbox statement for one page; a zero afterAt means
// the first page.
func InboxStatement(sc conversations.Scope, f conversations.InboxFilter, limit int, afterAt time.Time, afterID string) (string, []any) {
	var after *cursor
	if !afterAt.IsZero() {
		after = &cursor{at: dbTime(afterAt), id: afterID}
	}
	q, args, _ := inboxSQL(sc, f, limit, after)
	return q, args
}

// BadgeStatement is the badge statement.
func BadgeStatement(sc conversations.Scope) (string, []any) {
	q, args, _ := badgeSQL(sc)
	return q, args
}

// HistoryStatement is the history statement.
var HistoryStatement = historySQL

// BumpVisibilityStatement is the per-message update of a thread's
// visibility rows (arguments: time, time, seq, tenant, thread).
const BumpVisibilityStatement = bumpVisibilitySQL

// Numbered turns ? placeholders into $n, as the store does on PostgreSQL.
func Numbered(query string) string {
	q, _ := pgStatement(query, nil)
	return q
}

var (
	IsUniqueViolation     = isUniqueViolation
	IsForeignKeyViolation = isForeignKeyViolation
	Classify              = dbErr
)

// MigrateTo applies the migrations numbered up to last only.
func MigrateTo(ctx context.Context, db *DB, last int) error { return db.migrateTo(ctx, last) }
