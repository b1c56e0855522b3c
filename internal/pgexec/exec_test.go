package pgexec_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/fieldtalk/fieldtalk/internal/pgexec"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
)

// A statement whose cached plan a schema change made stale (0A000) or
// whose prepared copy the server dropped (26000) is retried once, prepared
// afresh, outside a transaction; inside one the failure aborts the
// transaction, so it is returned.
func TestRetryAfterTheServerChangedUnderACachedStatement(t *testing.T) {
	ctx := context.Background()
	for _, pooled := range []bool{false, true} {
		name := "prepared"
		if pooled {
			name = "transaction pooling"
		}
		t.Run(name, func(t *testing.T) {
			c, err := pgx.Connect(ctx, testdb.PostgresDSN(t))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(ctx)
			tracer := &pgexec.Tracer{}
			x := pgexec.New(pgexec.Config{TransactionPooling: pooled, Tracer: tracer})
			if _, err := c.Exec(ctx, "CREATE TABLE t (a int); INSERT INTO t VALUES (7)"); err != nil {
				t.Fatal(err)
			}
			q := pgexec.MustRewrite("SELECT a FROM t WHERE a > ?")
			read := func(inTx bool) (int64, error) {
				rows, err := x.Rows(ctx, c, inTx, q, 0)
				if err != nil {
					return 0, err
				}
				defer rows.Close()
				var a int64
				for rows.Next() {
					if err := rows.Scan(&a); err != nil {
						return 0, err
					}
				}
				return a, rows.Err()
			}
			pipe := func(inTx bool) (int64, error) {
				var a int64
				err := x.Pipeline(ctx, c, inTx, pgexec.Statement{SQL: q, Args: []any{0}, Dest: []any{&a}})
				return a, err
			}
			for _, f := range []func(bool) (int64, error){read, pipe} {
				if a, err := f(false); err != nil || a != 7 {
					t.Fatalf("first run: %d, %v", a, err)
				}
			}
			// The result type changes under the cached statements (0A000 for
			// a named one).
			alter := func(typ string) {
				t.Helper()
				if _, err := c.Exec(ctx, "ALTER TABLE t ALTER COLUMN a TYPE "+typ); err != nil {
					t.Fatal(err)
				}
			}
			alter("bigint")
			if !pooled {
				// Inside a transaction the failure is returned, unretried.
				if _, err := c.Exec(ctx, "BEGIN"); err != nil {
					t.Fatal(err)
				}
				if _, err := read(true); !pgexec.Retryable(err) {
					t.Errorf("a stale statement inside a transaction: got %v, want the 0A000 failure", err)
				}
				if _, err := c.Exec(ctx, "ROLLBACK"); err != nil {
					t.Fatal(err)
				}
			}
			// The pipeline's statement is still the int one: retried.
			if a, err := pipe(false); err != nil || a != 7 {
				t.Errorf("pipeline after the schema changed: %d, %v; want 7 and no error (retried)", a, err)
			}
			if a, err := read(false); err != nil || a != 7 { // cached afresh, as bigint
				t.Fatalf("read: %d, %v", a, err)
			}
			alter("int")
			if a, err := read(false); err != nil || a != 7 {
				t.Errorf("statement after the schema changed: %d, %v; want 7 and no error (retried)", a, err)
			}
			// And after the server dropped every prepared statement.
			if _, err := c.Exec(ctx, "DEALLOCATE ALL"); err != nil {
				t.Fatal(err)
			}
			for i, f := range []func(bool) (int64, error){read, pipe} {
				if a, err := f(false); err != nil || a != 7 {
					t.Errorf("statement %d after DEALLOCATE ALL: %d, %v; want 7 and no error", i, a, err)
				}
			}
		})
	}
}
