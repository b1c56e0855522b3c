package store_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/store"
)

// Migration 0005 gives the visibility rows of an existing database their
// copies of the thread's state and of the reader's horizon: the technician
// inbox and badge read from those copies, so they must come out as the
// threads and read marks say.
func TestMigrationCopiesThreadStateIntoVisibility(t *testing.T) {
	for _, dialect := range []string{store.DialectSQLite, store.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			dsn := "sqlite:" + filepath.Join(t.TempDir(), "fieldtalk.db")
			if dialect == store.DialectPostgres {
				dsn = testdb.PostgresDSN(t)
			}
			db, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := store.MigrateTo(ctx, db, 4); err != nil {
				t.Fatal(err)
			}
			// Three threads as the store before 0005 kept them: one read in
			// part, one archived, one internal never read; a technician who
			// sees all three, and another who sees the first only.
			base := time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC)
			threads := []struct {
				id, kind string
				at       time.Time
				seq      int64
				archived bool
			}{
				{"th-1", "customer", base.Add(3 * time.Minute), 5, false},
				{"th-2", "customer", base.Add(5 * time.Minute), 4, true},
				{"th-3", "internal", base.Add(time.Minute + 500*time.Microsecond), 2, false},
			}
			for _, th := range threads {
				_, err := db.Bun().ExecContext(ctx, `INSERT INTO threads (tenant_id, id, kind, contact_address, created_at,
  last_message_at, last_seq, archived) VALUES ('t', ?, ?, ?, ?, ?, ?, ?)`, th.id, th.kind, th.id, base, th.at, th.seq, th.archived)
				if err != nil {
					t.Fatal(err)
				}
			}
			for _, q := range []string{
				`INSERT INTO staff_thread_visibility (tenant_id, staff_id, thread_id, participant, job_refs) VALUES
  ('t', 'tech', 'th-1', false, 2), ('t', 'tech', 'th-2', false, 1), ('t', 'tech', 'th-3', true, 0),
  ('t', 'other', 'th-1', true, 0)`,
				`INSERT INTO read_marks (tenant_id, staff_id, thread_id, read_seq) VALUES
  ('t', 'tech', 'th-1', 3), ('t', 'tech', 'th-2', 4), ('t', 'other', 'th-3', 2), ('t', 'disp', 'th-1', 5)`,
			} {
				if _, err := db.Bun().ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}

			tech := conversations.Scope{Tenant: "t", Staff: "tech", Participant: true, Assigned: true}
			other := conversations.Scope{Tenant: "t", Staff: "other", Participant: true, Assigned: true}
			type row struct {
				id     conversations.ThreadID
				unread int64
				at     time.Time
			}
			inbox := func(sc conversations.Scope) []row {
				p, err := db.Inbox(ctx, sc, conversations.InboxQuery{})
				if err != nil {
					t.Fatal(err)
				}
				var out []row
				for _, th := range p.Threads {
					out = append(out, row{th.ID, th.Unread, th.LastMessageAt})
				}
				return out
			}
			want := []row{{"th-1", 2, threads[0].at}, {"th-3", 2, threads[2].at}}
			if got := inbox(tech); !slices.Equal(got, want) {
				t.Errorf("after the migration the technician's inbox must follow the threads and their read marks:\n got %v\nwant %v", got, want)
			}
			if got := inbox(other); !slices.Equal(got, []row{{"th-1", 5, threads[0].at}}) {
				t.Errorf("after the migration, another reader's rows follow their own read marks: got %v", got)
			}
			if n, err := db.Badge(ctx, tech); err != nil || n != 4 {
				t.Errorf("after the migration the technician's badge must be 4: got %d, %v", n, err)
			}
			// The archived thread's row is kept in step too: back, it counts
			// what its reader has not read.
			if err := db.SetArchived(ctx, "t", "th-2", false); err != nil {
				t.Fatal(err)
			}
			if n, err := db.Badge(ctx, tech); err != nil || n != 4 {
				t.Errorf("an un-archived thread read to its end adds nothing: got %d, %v", n, err)
			}
			if got := inbox(tech); len(got) != 3 || got[0].id != "th-2" || got[0].unread != 0 {
				t.Errorf("an un-archived thread is back in its place: got %v", got)
			}
		})
	}
}
