package testdb_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/store"
)

// recorder stands in for a test to see whether the helper skips or fails it.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func callPostgres(t *testing.T) *recorder { return call(t, testdb.PostgresDSN) }

// call runs dsn with a recorder standing in for the test.
func call(t *testing.T, dsn func(testing.TB) string) *recorder {
	r := &recorder{TB: t}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		dsn(r)
	}()
	wg.Wait()
	return r
}

func TestPostgresWithoutServer(t *testing.T) {
	t.Setenv(testdb.EnvPostgresURL, "")
	t.Setenv("CI", "")
	if r := callPostgres(t); !r.skipped || r.failed || !strings.Contains(r.msg, testdb.EnvPostgresURL) {
		t.Errorf("without %s a PostgreSQL test is skipped, saying why: skipped=%v failed=%v %q", testdb.EnvPostgresURL, r.skipped, r.failed, r.msg)
	}
	t.Setenv("CI", "true")
	if r := callPostgres(t); !r.failed || r.skipped {
		t.Errorf("under CI=true a missing %s fails the test: skipped=%v failed=%v", testdb.EnvPostgresURL, r.skipped, r.failed)
	}
}

func TestEachGivesFreshMigratedDatabases(t *testing.T) {
	var dialects []string
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		dialects = append(dialects, db.Dialect())
		ctx := context.Background()
		staff, err := db.ListStaff(ctx, "t")
		if err != nil || len(staff) != 0 {
			t.Fatalf("a fresh database is migrated and empty: %v %v", staff, err)
		}
		if err := db.PutStaff(ctx, conversations.Staff{Tenant: "t", ID: "s", Role: conversations.RoleAdmin}); err != nil {
			t.Fatal(err)
		}
	})
	if len(dialects) == 0 || dialects[0] != store.DialectSQLite {
		t.Errorf("Each runs sqlite first, then postgres: ran %v", dialects)
	}
}

func TestCitusWithoutCluster(t *testing.T) {
	t.Setenv(testdb.EnvCitusURL, "")
	t.Setenv("CI", "")
	if r := call(t, testdb.CitusDSN); !r.skipped || r.failed || !strings.Contains(r.msg, testdb.EnvCitusURL) {
		t.Errorf("without %s a Citus test is skipped, saying why: skipped=%v failed=%v %q", testdb.EnvCitusURL, r.skipped, r.failed, r.msg)
	}
	t.Setenv("CI", "true")
	if r := call(t, testdb.CitusDSN); !r.failed || r.skipped {
		t.Errorf("under CI=true a missing %s fails the test: skipped=%v failed=%v", testdb.EnvCitusURL, r.skipped, r.failed)
	}
}
