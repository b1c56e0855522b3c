package store_test

import (
	"context"
	"flag"
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/store"
	"github.com/fieldtalk/fieldtalk/store/storetest"
)

var seed = flag.Int64("seed", 0, "extra seed for the randomized differential test (0: one from the clock)")

// TestStore runs the conformance suite on both databases, on a Citus
// cluster, where every statement the suite runs must route to one shard,
// and behind PgBouncer in transaction mode, where no prepared statement
// outlives its transaction. The databases run side by side; the
// differential's extra random seed runs on SQLite and PostgreSQL, Citus and
// PgBouncer take the fixed one (they check routing and pooling, not the
// model).
func TestStore(t *testing.T) {
	for _, db := range []struct {
		name string
		open func(testing.TB) *store.DB
		opts []storetest.Option
	}{
		{"sqlite", testdb.SQLite, []storetest.Option{storetest.Seed(*seed)}},
		{"postgres", testdb.Postgres, []storetest.Option{storetest.Seed(*seed)}},
		{"citus", testdb.Citus, nil},
		{"pgbouncer", testdb.PgBouncer, nil},
	} {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t *testing.T) conversations.Store {
				st := db.open(t)
				if db.name == "postgres" || db.name == "pgbouncer" {
					return lockWaits{st}
				}
				return st
			}, db.opts...)
		})
	}
}

// lockWaits shows storetest when a session of the store's database waits
// for a lock (storetest.LockWaiter), on one PostgreSQL server. (On Citus a
// session waits on a worker, where the coordinator's view does not show
// it; SQLite has no view of its waiters: the scenario pauses there.)
type lockWaits struct{ *store.DB }

func (l lockWaits) LockWaits(ctx context.Context) (int, error) {
	var n int
	err := l.SQL().QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
	return n, err
}

// TestPlainStore runs the suite over the store's core methods alone: every
// optional ability is hidden, so the scenarios meet the fallbacks a
// Service builds (conversations.WithFallbacks), and they must keep the same
// rules. (TestStore's differential checks the fast paths answer as those
// fallbacks do, on every database and at full size; here one round of it
// holds the fallbacks to the model, since each of their answers costs a
// read per thread.)
func TestPlainStore(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		storetest.Run(t, func(t *testing.T) conversations.Store { return storetest.Plain(testdb.SQLite(t)) }, storetest.Rounds(1))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		storetest.Run(t, func(t *testing.T) conversations.Store { return storetest.Plain(testdb.Postgres(t)) }, storetest.Rounds(1))
	})
}
