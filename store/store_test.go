package store_test

import (
	"flag"
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/store/storetest"
)

var seed = flag.Int64("seed", 0, "extra seed for the randomized differential test (0: one from the clock)")

// TestStore runs the conformance suite on both databases, on a Citus
// cluster, where every statement the suite runs must route to one shard,
// and behind PgBouncer in transaction mode, where no prepared statement
// outlives its transaction.
func TestStore(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) conversations.Store { return testdb.SQLite(t) }, storetest.Seed(*seed))
	})
	t.Run("postgres", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) conversations.Store { return testdb.Postgres(t) }, storetest.Seed(*seed))
	})
	t.Run("citus", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) conversations.Store { return testdb.Citus(t) }, storetest.Seed(*seed))
	})
	t.Run("pgbouncer", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) conversations.Store { return testdb.PgBouncer(t) }, storetest.Seed(*seed))
	})
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
		storetest.Run(t, func(t *testing.T) conversations.Store { return storetest.Plain(testdb.SQLite(t)) }, storetest.Rounds(1))
	})
	t.Run("postgres", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) conversations.Store { return storetest.Plain(testdb.Postgres(t)) }, storetest.Rounds(1))
	})
}
