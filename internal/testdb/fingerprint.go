package testdb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fieldtalk/fieldtalk/store"
)

// Fingerprint returns a digest of every row of every fieldtalk table in
// db, so a test can check that a refused request changed nothing: equal
// fingerprints before and after mean equal contents. River's tables
// (river_*) are left out: its leader election and maintenance write to
// them on their own schedule, and a refused request never reaches them.
func Fingerprint(t testing.TB, db *store.DB) string {
	t.Helper()
	ctx := context.Background()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if db.Dialect() == store.DialectPostgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	// Reading a whole table is a query over every shard on Citus, which
	// the test connections refuse (citus.multi_task_query_log_level):
	// the fingerprint allows it in a transaction of its own. On plain
	// PostgreSQL the setting is an unused custom variable.
	var qr interface {
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	} = db.SQL()
	if db.Dialect() == store.DialectPostgres {
		tx, err := db.SQL().BeginTx(ctx, nil)
		if err != nil {
			t.Fatalf("testdb: fingerprint: %v", err)
		}
		defer func() { _ = tx.Rollback() }()
		if _, err := tx.ExecContext(ctx, "SET LOCAL citus.multi_task_query_log_level = 'off'"); err != nil {
			t.Fatalf("testdb: fingerprint: %v", err)
		}
		qr = tx
	}
	rows, err := qr.QueryContext(ctx, q)
	if err != nil {
		t.Fatalf("testdb: fingerprint: %v", err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatalf("testdb: fingerprint: %v", err)
		}
		if !strings.HasPrefix(name, "river_") {
			tables = append(tables, name)
		}
	}
	if err := rows.Close(); err != nil {
		t.Fatalf("testdb: fingerprint: %v", err)
	}
	slices.Sort(tables)
	h := sha256.New()
	for _, table := range tables {
		fmt.Fprintf(h, "table %s\n", table)
		// Rows are compared as a sorted set of their text, so the order a
		// database happens to return them in does not matter.
		rs, err := qr.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
		if err != nil {
			t.Fatalf("testdb: fingerprint %s: %v", table, err)
		}
		cols, _ := rs.Columns()
		var lines []string
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rs.Next() {
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatalf("testdb: fingerprint %s: %v", table, err)
			}
			var b strings.Builder
			for _, v := range vals {
				if raw, ok := v.([]byte); ok {
					v = string(raw)
				}
				fmt.Fprintf(&b, "%#v\x1f", v)
			}
			lines = append(lines, b.String())
		}
		if err := rs.Close(); err != nil {
			t.Fatalf("testdb: fingerprint %s: %v", table, err)
		}
		slices.Sort(lines)
		for _, l := range lines {
			fmt.Fprintln(h, l)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
