package store

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// The inbox is one SQL statement built from the Scope. The scope splits into
// disjoint parts by thread kind, each answered the cheap way:
//
//   - a kind the scope sees whole (AllCustomer, AllInternal) is a backwards
//     walk of the tenant's inbox index, stopped after one page;
//   - what the staff member sees only as a participant or an assignee is a
//     backwards walk of their rows in staff_thread_visibility on its own
//     inbox index, filtered and stopped after one page by the rows' own
//     copies of the thread's kind, archived flag, last_message_at and
//     last_seq and of the staff member's read horizon (a technician's whole
//     inbox is that; a dispatcher's is that for internal threads only).
//     Only the page's rows are then joined to threads, by primary key, for
//     what they display.
//
// Each part is limited to a page on its own; a UNION ALL merges them (they
// never share a thread, since they differ in kind). A visibility row brings
// its unread count along; only the rows of the walk that make the page get
// theirs, as a scalar subquery on read_marks (one primary-key probe per
// row; a join there misleads PostgreSQL's planner). The keyset is
// (last_message_at, id), the order of both inbox indexes.

type kindSet struct{ customer, internal bool }

func (k kindSet) empty() bool { return !k.customer && !k.internal }
func (k kindSet) both() bool  { return k.customer && k.internal }

// only returns the predicate restricting the kind column of the table
// aliased a to the set ("" for both).
func (k kindSet) only(a string) string {
	switch {
	case k.both():
		return ""
	case k.customer:
		return " AND " + a + ".kind = 'customer'"
	}
	return " AND " + a + ".kind = 'internal'"
}

// scopeParts is the disjoint split of a Scope described above.
type scopeParts struct {
	walk    kindSet // kinds seen whole
	visKind kindSet // kinds left to the visibility rows
	visPart bool    // participant rows count
	visJobs bool    // assignment rows count (customer threads only)
}

func (p scopeParts) vis() bool { return p.visPart || p.visJobs }

func splitScope(sc conversations.Scope, kinds kindSet) scopeParts {
	var p scopeParts
	p.walk = kindSet{customer: kinds.customer && sc.AllCustomer, internal: kinds.internal && sc.AllInternal}
	p.visKind = kindSet{customer: kinds.customer && !p.walk.customer, internal: kinds.internal && !p.walk.internal}
	p.visPart = sc.Participant && !p.visKind.empty()
	p.visJobs = sc.Assigned && p.visKind.customer
	if !p.visPart {
		// Only assignments are left, and they reach customer threads only.
		p.visKind.internal = false
	}
	return p
}

// visCond is the visibility rows' condition for the parts, on the rows'
// own columns.
func (p scopeParts) visCond() string {
	var c []string
	if p.visPart {
		c = append(c, "v.participant")
	}
	if p.visJobs {
		c = append(c, "(v.job_refs > 0 AND v.kind = 'customer')")
	}
	return "(" + strings.Join(c, " OR ") + ")" + p.visKind.only("v")
}

func filterKinds(f conversations.InboxFilter) kindSet {
	switch f {
	case conversations.FilterCustomer:
		return kindSet{customer: true}
	case conversations.FilterInternal:
		return kindSet{internal: true}
	}
	return kindSet{customer: true, internal: true}
}

// visRows are a staff member's visibility rows that the parts count, on
// the visibility inbox index (tenant_id, staff_id, last_message_at,
// thread_id) WHERE NOT archived: its conditions, then the parts'.
func (p scopeParts) visRows() string {
	return `FROM staff_thread_visibility v
  WHERE v.tenant_id = ? AND v.staff_id = ? AND NOT v.archived AND ` + p.visCond()
}

// unreadOf is the viewer's unread count of the thread aliased a. Its
// arguments are the tenant and the staff member: the tenant is named, not
// taken from the outer row, so that Citus routes the statement to the
// tenant's shard (it does not follow equalities into a correlated subquery).
func unreadOf(a string) string {
	return a + `.last_seq - coalesce((SELECT r.read_seq FROM read_marks r
  WHERE r.tenant_id = ? AND r.staff_id = ? AND r.thread_id = ` + a + `.id), 0)`
}

type cursor struct {
	at time.Time
	id string
}

func encodeCursor(at time.Time, id conversations.ThreadID) string {
	raw := strconv.FormatInt(at.UnixMicro(), 10) + ":" + string(id)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(s string) (cursor, error) {
	const op = "inbox"
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, invalid(op, "after", "malformed cursor")
	}
	micros, id, ok := strings.Cut(string(raw), ":")
	n, err := strconv.ParseInt(micros, 10, 64)
	if !ok || err != nil || id == "" || conversations.CheckLine("after", id, conversations.MaxIDRunes) != nil {
		return cursor{}, invalid(op, "after", "malformed cursor")
	}
	return cursor{at: time.UnixMicro(n).UTC(), id: id}, nil
}

// inboxSQL builds the statement for one page (limit+1 rows, so the caller
// sees whether another page follows), from the scope's kinds of access only
// (its tenant and staff member are slots). ok is false when the scope allows
// nothing under the filter.
func inboxSQL(sc conversations.Scope, f conversations.InboxFilter, limit int, after bool) (query string, args []slot, ok bool) {
	parts := splitScope(sc, filterKinds(f))
	tenant, staff := slotTenant, slotStaff
	// The page size is written into the text, not passed as a parameter: a
	// generic plan with an unknown LIMIT is costed as if it returned a tenth
	// of the rows, which makes PostgreSQL walk the whole inbox index for a
	// technician instead of their few visibility rows. Page sizes are few
	// (1..MaxPageSize, in practice one or two), so the statement cache holds
	// them all.
	lim := strconv.Itoa(limit)
	var branches []string
	if !parts.walk.empty() {
		q := "SELECT " + threadColumns("t") + ", t.tenant_id, CAST(NULL AS BIGINT) AS unread,\n  t.last_message_at AS sort_at, t.id AS sort_id\nFROM threads t\n" +
			"WHERE t.tenant_id = ? AND NOT t.archived" + parts.walk.only("t")
		args = append(args, tenant)
		if after {
			q += " AND (t.last_message_at, t.id) < (?, ?)"
			args = append(args, slotAfterAt, slotAfterID)
		}
		if f == conversations.FilterUnread {
			q += " AND t.last_seq > coalesce((SELECT r.read_seq FROM read_marks r\n  WHERE r.tenant_id = ? AND r.staff_id = ? AND r.thread_id = t.id), 0)"
			args = append(args, tenant, staff)
		}
		branches = append(branches, q+"\nORDER BY t.last_message_at DESC, t.id DESC LIMIT "+lim)
	}
	if parts.vis() {
		// The page is found on the visibility rows alone; CROSS JOIN then
		// keeps SQLite, which plans without statistics, from driving the
		// join from threads. (PostgreSQL takes no ON after CROSS JOIN: the
		// join condition sits in WHERE.) The branch is ordered by the
		// walk's own columns, which the join keeps in order, so that
		// PostgreSQL sorts nothing after it: the thread's copies of them
		// are equal, but the planner cannot know that.
		q := "SELECT v.tenant_id, v.thread_id, v.last_message_at, v.last_seq - v.read_seq AS unread\n  " + parts.visRows()
		args = append(args, tenant, staff)
		if after {
			q += " AND (v.last_message_at, v.thread_id) < (?, ?)"
			args = append(args, slotAfterAt, slotAfterID)
		}
		if f == conversations.FilterUnread {
			q += " AND v.last_seq > v.read_seq"
		}
		q += "\n  ORDER BY v.last_message_at DESC, v.thread_id DESC LIMIT " + lim
		// The join names the tenant rather than taking it from vp: Citus
		// routes a join with a subquery only when it sees each side's shard.
		branches = append(branches, "SELECT "+threadColumns("t")+", t.tenant_id, vp.unread,\n  vp.last_message_at AS sort_at, vp.thread_id AS sort_id\nFROM ("+q+") vp\n"+
			"CROSS JOIN threads t\nWHERE t.tenant_id = ? AND t.id = vp.thread_id")
		args = append(args, tenant)
	}
	var from string
	switch len(branches) {
	case 0:
		return "", nil, false
	case 1:
		from = "(" + branches[0] + ") p"
	default:
		// Each branch sits in its own subquery: SQLite allows neither
		// parentheses nor LIMIT on the members of a compound SELECT.
		from = "(SELECT * FROM (" + branches[0] + ") b1\nUNION ALL\nSELECT * FROM (" + branches[1] +
			") b2\nORDER BY sort_at DESC, sort_id DESC LIMIT " + lim + ") p"
	}
	// The walk's rows come without their unread count (NULL): only those
	// that make the page get it.
	unread := "p.unread"
	if !parts.walk.empty() {
		unread = "coalesce(p.unread, " + unreadOf("p") + ")"
		args = append([]slot{tenant, staff}, args...)
	}
	query = "SELECT " + threadColumns("p") + ",\n  " + unread + "\nFROM " + from +
		"\nORDER BY p.sort_at DESC, p.sort_id DESC"
	return query, args, true
}

// inboxShape is what inboxSQL builds from.
type inboxShape struct {
	access conversations.Scope // the scope's kinds of access, without tenant and staff
	filter conversations.InboxFilter
	limit  int
	after  bool
}

// accessOf is the part of a scope that shapes statements: its kinds of
// access, without the tenant and staff member they are for. Builders are
// given it rather than the scope, so that a builder that wrote a viewer's
// value into the text would fail the tests instead of caching it.
func accessOf(sc conversations.Scope) conversations.Scope {
	sc.Tenant, sc.Staff = "", ""
	return sc
}

// scopeValues are a scope's slot values.
func scopeValues(sc conversations.Scope) slotValues {
	var v slotValues
	v[slotTenant], v[slotStaff] = string(sc.Tenant), string(sc.Staff)
	return v
}

// Inbox lists the threads the scope allows, newest activity first, with the
// scope's staff member's unread count per row. A scope without a tenant or a
// staff member allows nothing.
func (s *DB) Inbox(ctx context.Context, sc conversations.Scope, q conversations.InboxQuery) (conversations.InboxPage, error) {
	const op = "inbox"
	limit, err := pageLimit(op, q.Limit)
	if err != nil {
		return conversations.InboxPage{}, err
	}
	if !q.Filter.Valid() {
		return conversations.InboxPage{}, invalid(op, "filter", "unknown filter "+string(q.Filter))
	}
	var after *cursor
	if q.After != "" {
		c, err := decodeCursor(q.After)
		if err != nil {
			return conversations.InboxPage{}, err
		}
		after = &c
	}
	if sc.Tenant == "" || sc.Staff == "" {
		return conversations.InboxPage{}, nil
	}
	shape := inboxShape{access: accessOf(sc), filter: q.Filter, limit: limit + 1, after: after != nil}
	st := s.statement(shape, func() (string, []slot) {
		query, slots, _ := inboxSQL(shape.access, shape.filter, shape.limit, shape.after)
		return query, slots
	})
	if st.text == "" {
		return conversations.InboxPage{}, nil
	}
	v := scopeValues(sc)
	if after != nil {
		v[slotAfterAt], v[slotAfterID] = after.at, after.id
	}
	// Sized for the page up front: the benchmark's profile found the
	// slice's growth among the client-side costs of a listing.
	page := conversations.InboxPage{Threads: make([]conversations.Thread, 0, limit+1)}
	var unread int64
	row := newThreadRow(&unread)
	err = s.read(ctx, st, &v, row.dest, func() error {
		t := row.thread(sc.Tenant)
		t.Unread = unread
		page.Threads = append(page.Threads, t)
		return nil
	})
	if err != nil {
		return conversations.InboxPage{}, dbErr(op, err)
	}
	if len(page.Threads) > limit {
		page.Threads = page.Threads[:limit]
		last := page.Threads[limit-1]
		page.NextCursor = encodeCursor(last.LastMessageAt, last.ID)
	}
	return page, nil
}
