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
	q, slots, _ := inboxSQL(sc, f, limit, !afterAt.IsZero())
	v := scopeValues(sc)
	v[slotAfterAt], v[slotAfterID] = dbTime(afterAt), afterID
	return q, v.args(slots)
}

// BadgeStatement is the badge statement.
func BadgeStatement(sc conversations.Scope) (string, []any) {
	q, slots, _ := badgeSQL(sc)
	v := scopeValues(sc)
	return q, v.args(slots)
}

// HistoryStatement is the history statement.
func HistoryStatement(tenant conversations.TenantID, thread conversations.ThreadID, before int64, limit int) (string, []any) {
	q, slots := historySQL(before > 0, "", nil)
	var v slotValues
	v[slotTenant] = string(tenant)
	v.setHistory(thread, before, limit)
	return q, v.args(slots)
}

// VisibleHistoryStatement is the statement of VisibleHistory's page.
func VisibleHistoryStatement(sc conversations.Scope, thread conversations.ThreadID, before int64, limit int) (string, []any) {
	cond, condSlots := allowsSQL(sc)
	q, slots := historySQL(before > 0, cond, condSlots)
	v := scopeValues(sc)
	v.setHistory(thread, before, limit)
	return q, v.args(slots)
}

// BumpVisibilityStatement is the per-message update of a thread's
// visibility rows (arguments: time, time, seq, tenant, thread).
const BumpVisibilityStatement = bumpVisibilitySQL

// Numbered turns ? placeholders into $n, as the store does on PostgreSQL.
var Numbered = numbered

var (
	IsUniqueViolation     = isUniqueViolation
	IsForeignKeyViolation = isForeignKeyViolation
	Classify              = dbErr
)

// WithTrace has trace told every statement the store runs on PostgreSQL
// (with $n placeholders and its arguments; bun's come with the arguments in
// the text).
func WithTrace(trace func(query string, args []any)) Option {
	return func(c *config) { c.trace = trace }
}

// MigrateTo applies the migrations numbered up to last only.
func MigrateTo(ctx context.Context, db *DB, last int) error { return db.migrateTo(ctx, last) }

// RoundTrips is the number of round trips db's PostgreSQL connections have
// made so far (pgexec.Tracer); 0 on SQLite.
func RoundTrips(db *DB) int64 {
	if db.rt == nil {
		return 0
	}
	return db.rt.RoundTrips()
}
