package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/store"
)

// On SQLite timestamps are text, and the inbox keyset compares them as text:
// that is only right if the stored text sorts in time order. bun writes
// "2006-01-02 15:04:05.999999+00:00": always UTC, and a trimmed fraction
// still sorts right, because '+' sorts before '.' and before every digit.
func TestSQLiteTimeTextSortsInTimeOrder(t *testing.T) {
	db := testdb.SQLite(t)
	ctx := context.Background()
	base := time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC)
	times := []time.Time{
		base, base.Add(500 * time.Millisecond), base.Add(50 * time.Millisecond), base.Add(time.Microsecond),
		base.Add(10 * time.Microsecond), base.Add(999999 * time.Microsecond), base.Add(time.Second),
		base.Add(time.Second + 5*time.Microsecond), base.Add(-time.Microsecond), base.AddDate(-1, 0, 0),
		base.In(time.FixedZone("UTC+14", 14*3600)).Add(time.Minute),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		times = append(times, base.Add(time.Duration(rng.IntN(3_000_000))*time.Microsecond))
	}
	for _, at := range times {
		err := db.CreateThread(ctx, conversations.Thread{ID: conversations.NewID[conversations.ThreadID](), Tenant: "t",
			Kind: conversations.ThreadInternal, CreatedAt: at})
		if err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.SQL().QueryContext(ctx,
		"SELECT typeof(last_message_at), CAST(last_message_at AS TEXT) FROM threads WHERE tenant_id = 't' ORDER BY last_message_at")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	format := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?\+00:00$`)
	var got []time.Time
	for rows.Next() {
		var typ, text string
		if err := rows.Scan(&typ, &text); err != nil {
			t.Fatal(err)
		}
		if typ != "text" || !format.MatchString(text) {
			t.Fatalf("timestamps are stored as UTC text in bun's format: got %s %q", typ, text)
		}
		at, err := time.Parse("2006-01-02 15:04:05.999999-07:00", text)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, at)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := make([]time.Time, len(times))
	for i, at := range times {
		want[i] = at.UTC().Truncate(time.Microsecond)
	}
	slices.SortFunc(want, time.Time.Compare)
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Fatalf("text order must be time order: position %d holds %v, want %v", i, got[i], want[i])
		}
	}
}

// SQLite plans without statistics, so the statements must leave it no bad
// choice: no full scan of threads or messages, and a technician's inbox
// driven by a walk of their visibility rows, never by a walk of the
// business's inbox.
func TestSQLitePlans(t *testing.T) {
	db := testdb.SQLite(t)
	ctx := context.Background()
	tech := conversations.Scope{Tenant: "t", Staff: "s", Participant: true, Assigned: true}
	disp := conversations.Scope{Tenant: "t", Staff: "s", AllCustomer: true, Participant: true}
	at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	plan := func(query string, args ...any) string {
		rows, err := db.Bun().QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, detail)
		}
		return strings.Join(lines, "\n")
	}
	noFullScan := func(name, p string) {
		for _, bad := range []string{"SCAN t\n", "SCAN m\n", "SCAN v\n", "SCAN t USING", "SCAN m USING", "SCAN v USING"} {
			if strings.Contains(p+"\n", bad) {
				t.Errorf("%s: the plan must not scan a whole table (%q):\n%s", name, strings.TrimSpace(bad), p)
			}
		}
	}
	for _, f := range []conversations.InboxFilter{conversations.FilterAll, conversations.FilterUnread, conversations.FilterCustomer, conversations.FilterInternal} {
		for _, afterAt := range []time.Time{{}, at} {
			name := fmt.Sprintf("technician inbox %q (cursor %v)", f, !afterAt.IsZero())
			q, args := store.InboxStatement(tech, f, 51, afterAt, "x")
			p := plan(q, args...)
			noFullScan(name, p)
			if !strings.Contains(p, "SEARCH v USING COVERING INDEX staff_thread_visibility_inbox (tenant_id=? AND staff_id=?") || strings.Contains(p, "threads_inbox") {
				t.Errorf("%s: must be driven by the visibility rows' inbox index, not the threads' one:\n%s", name, p)
			}
			q, args = store.InboxStatement(disp, f, 51, afterAt, "x")
			noFullScan(fmt.Sprintf("dispatcher inbox %q", f), plan(q, args...))
		}
	}
	for _, sc := range []conversations.Scope{tech, disp, {Tenant: "t", Staff: "s", AllInternal: true}} {
		q, args := store.BadgeStatement(sc)
		p := plan(q, args...)
		noFullScan(fmt.Sprintf("badge %+v", sc), p)
		if (sc.Participant || sc.Assigned) && !strings.Contains(p, "SEARCH v USING COVERING INDEX staff_thread_visibility_inbox (tenant_id=? AND staff_id=?)") {
			t.Errorf("badge %+v: the staff member's visibility rows are found on their inbox index:\n%s", sc, p)
		}
	}
	if p := plan(store.BumpVisibilityStatement, at, at, 1, "t", "th"); !strings.Contains(p, "USING PRIMARY KEY (tenant_id=? AND thread_id=?)") {
		t.Errorf("the per-message update of a thread's visibility rows must find them by the primary key:\n%s", p)
	}
	for _, before := range []int64{0, 10} {
		q, args := store.HistoryStatement("t", "th", before, 50)
		if p := plan(q, args...); !strings.Contains(p, "SEARCH m USING INDEX sqlite_autoindex_messages_1 (tenant_id=? AND thread_id=?") {
			t.Errorf("history must walk the messages' primary key:\n%s", p)
		}
	}
}
