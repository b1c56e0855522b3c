package store_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/store"
)

func TestOpenRejectsBadDSN(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		dsn  string
		want error
	}{
		{"", conversations.ErrInvalid},
		{"mysql://user@localhost/db", conversations.ErrInvalid},
		{"sqlite:", conversations.ErrInvalid},
		{"postgres://user@host:notaport/db", conversations.ErrInvalid},
		{"sqlite:" + filepath.Join(t.TempDir(), "x.db") + "?%zz", conversations.ErrInvalid},
		{"postgres://nobody@127.0.0.1:1/none?connect_timeout=2", conversations.ErrUnavailable},
		{"sqlite:" + filepath.Join(t.TempDir(), "missing-dir", "x.db"), conversations.ErrUnavailable},
	}
	for _, c := range cases {
		db, err := store.Open(ctx, c.dsn)
		if err == nil {
			db.Close()
		}
		if !errors.Is(err, c.want) {
			t.Errorf("Open(%q): want an error wrapping %v, got %v", c.dsn, c.want, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "store: ") {
			t.Errorf("Open(%q): errors start with \"store: \": %v", c.dsn, err)
		}
	}
}

func TestOpenSQLiteForms(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, dsn := range []string{
		"sqlite:" + filepath.Join(dir, "a.db"),
		"file:" + filepath.Join(dir, "b.db"),
		filepath.Join(dir, "c.db"),
		"sqlite:" + filepath.Join(dir, "d.db") + "?cache=private",
	} {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatalf("Open(%q): %v", dsn, err)
		}
		if db.Dialect() != store.DialectSQLite || db.Bun() == nil || db.SQL() == nil {
			t.Errorf("Open(%q): want a SQLite DB with its handles, got dialect %q", dsn, db.Dialect())
		}
		var mode string
		var fk, busy int
		if err := db.SQL().QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("Open(%q): journal_mode must be WAL: %q %v", dsn, mode, err)
		}
		if err := db.SQL().QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
			t.Errorf("Open(%q): foreign keys must be on: %d %v", dsn, fk, err)
		}
		if err := db.SQL().QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil || busy < 1000 {
			t.Errorf("Open(%q): a busy timeout must be set: %d %v", dsn, busy, err)
		}
		db.Close()
	}
	mem, err := store.Open(ctx, "sqlite::memory:")
	if err != nil {
		t.Fatalf("Open(memory): %v", err)
	}
	defer mem.Close()
	if err := mem.Migrate(ctx); err != nil {
		t.Fatalf("Migrate(memory): %v", err)
	}
	// One connection, so every call sees the one in-memory database.
	if err := mem.PutStaff(ctx, conversations.Staff{Tenant: "t", ID: "s", Role: conversations.RoleAdmin}); err != nil {
		t.Fatalf("PutStaff(memory): %v", err)
	}
	if _, err := mem.GetStaff(ctx, "t", "s"); err != nil {
		t.Errorf("an in-memory database keeps its data across calls: %v", err)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		count := func() int {
			var n int
			if err := db.SQL().QueryRowContext(ctx, "SELECT count(*) FROM fieldtalk_migrations").Scan(&n); err != nil {
				t.Fatalf("count migrations: %v", err)
			}
			return n
		}
		before := count()
		if before == 0 {
			t.Fatalf("Migrate must record the migrations it applied")
		}
		for range 2 {
			if err := db.Migrate(ctx); err != nil {
				t.Fatalf("Migrate again: %v", err)
			}
		}
		if after := count(); after != before {
			t.Errorf("Migrate twice is a no-op: %d migrations recorded, was %d", after, before)
		}
		if err := db.PutStaff(ctx, conversations.Staff{Tenant: "t", ID: "s", Role: conversations.RoleAdmin}); err != nil {
			t.Errorf("the migrated schema works: %v", err)
		}
		err := db.Tx(ctx, func(tx conversations.Store) error {
			return tx.(*store.DB).Migrate(ctx)
		})
		if err == nil {
			t.Errorf("Migrate inside a transaction must refuse")
		}
	})
}

// A unique clash from the database is classified by its code, whatever the
// driver's text says.
func TestUniqueViolationIsClassifiedByCode(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		insert := "INSERT INTO staff (tenant_id, id, role, created_at) VALUES ('t', 's', 'admin', CURRENT_TIMESTAMP)"
		if _, err := db.SQL().ExecContext(ctx, insert); err != nil {
			t.Fatalf("insert: %v", err)
		}
		_, err := db.SQL().ExecContext(ctx, insert)
		if !store.IsUniqueViolation(err) {
			t.Fatalf("a duplicate primary key must be a unique violation: %v", err)
		}
		if err := store.Classify("op", err); !errors.Is(err, conversations.ErrConflict) {
			t.Errorf("a unique violation is ErrConflict: %v", err)
		}
		_, err = db.SQL().ExecContext(ctx, "INSERT INTO thread_participants (tenant_id, thread_id, staff_id) VALUES ('t', 'no-such-thread', 's')")
		if !store.IsForeignKeyViolation(err) || store.IsUniqueViolation(err) {
			t.Errorf("a dangling reference is a foreign key violation, not a clash: %v", err)
		}
	})
}

func TestJobs(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		j := conversations.JobContext{
			Tenant: "t1", ID: "job-1", Title: "Water heater", Status: "scheduled",
			WindowStart: time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC),
			WindowEnd:   time.Date(2024, 6, 1, 11, 0, 0, 0, time.FixedZone("x", 3600)),
			Address:     "1 Main St", Technician: "Sam", Business: "Acme",
			Customer: conversations.Contact{Phone: "+15005550001", Name: "Pat", Email: "p@example.com", Ref: "c-1"},
			Notes:    "dog in yard", TimeZone: "America/Denver",
		}
		if err := db.PutJob(ctx, j); err != nil {
			t.Fatalf("PutJob: %v", err)
		}
		got, err := db.Job(ctx, "t1", "job-1")
		if err != nil {
			t.Fatalf("Job: %v", err)
		}
		want := j
		want.WindowEnd = want.WindowEnd.UTC()
		if got != want {
			t.Errorf("Job: a job reads back as stored (times in UTC, unset ones zero):\n got %+v\nwant %+v", got, want)
		}
		j.ETA, j.Status = time.Date(2024, 6, 1, 9, 45, 0, 0, time.UTC), "en route"
		if err := db.PutJob(ctx, j); err != nil {
			t.Fatalf("PutJob(update): %v", err)
		}
		if got, _ := db.Job(ctx, "t1", "job-1"); got.Status != "en route" || !got.ETA.Equal(j.ETA) {
			t.Errorf("PutJob: replaces the job's context: got %+v", got)
		}
		if _, err := db.Job(ctx, "t2", "job-1"); !errors.Is(err, conversations.ErrNotFound) {
			t.Errorf("Job: another tenant's job is ErrNotFound: %v", err)
		}
	})
}

func TestOptOutLedger(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC)
		for i, kw := range []string{"stop", "START", "STOP"} {
			if err := db.RecordOptOut(ctx, conversations.OptOut{Tenant: "t1", Address: "+15005550001", Keyword: kw,
				OptedOut: kw != "START", At: at.Add(time.Duration(i) * time.Minute)}); err != nil {
				t.Fatalf("RecordOptOut: %v", err)
			}
		}
		ledger, err := db.OptOutLedger(ctx, "t1", "+15005550001")
		if err != nil {
			t.Fatalf("OptOutLedger: %v", err)
		}
		var kws []string
		for _, e := range ledger {
			kws = append(kws, e.Keyword)
		}
		if strings.Join(kws, ",") != "STOP,START,STOP" || !ledger[1].At.Equal(at.Add(time.Minute)) || ledger[1].OptedOut {
			t.Errorf("the ledger keeps every entry in order, keywords upper-cased: got %+v", ledger)
		}
		if other, _ := db.OptOutLedger(ctx, "t2", "+15005550001"); len(other) != 0 {
			t.Errorf("the ledger is per tenant: got %+v", other)
		}
	})
}

func TestQueriesAreLogged(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "log.db"), store.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Badge(ctx, conversations.Scope{Tenant: "t", Staff: "s", AllCustomer: true}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "store: migration applied") || !strings.Contains(out, "tenant_counters") {
		t.Errorf("WithLogger: migrations and (at debug level) queries are logged; got:\n%s", out)
	}
}

// A DB bound to a transaction does not close the database.
func TestBoundCloseIsNoop(t *testing.T) {
	db := testdb.SQLite(t)
	ctx := context.Background()
	err := db.Tx(ctx, func(tx conversations.Store) error { return tx.(*store.DB).Close() })
	if err != nil {
		t.Fatalf("Close on a bound DB: %v", err)
	}
	if err := db.PutStaff(ctx, conversations.Staff{Tenant: "t", ID: "s", Role: conversations.RoleAdmin}); err != nil {
		t.Errorf("the database must stay open after a bound DB's Close: %v", err)
	}
}
