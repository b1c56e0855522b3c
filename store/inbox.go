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
//     walk of their rows in staff_thread_visibility, joined to threads by
//     primary key (a technician's whole inbox is that; a dispatcher's is
//     that for internal threads only).
//
// Each part is limited to a page on its own; a UNION ALL merges them (they
// never share a thread, since they differ in kind), and only the rows of the
// page get their unread count, as a scalar subquery on read_marks (one
// primary-key probe per row; a join there misleads PostgreSQL's planner).
// The keyset is (last_message_at, id), the inbox index's own order.

type kindSet struct{ customer, internal bool }

func (k kindSet) empty() bool { return !k.customer && !k.internal }
func (k kindSet) both() bool  { return k.customer && k.internal }

// only returns the predicate restricting t.kind to the set ("" for both).
func (k kindSet) only() string {
	switch {
	case k.both():
		return ""
	case k.customer:
		return " AND t.kind = 'customer'"
	}
	return " AND t.kind = 'internal'"
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

// visCond is the visibility rows' condition for the parts.
func (p scopeParts) visCond() string {
	var c []string
	if p.visPart {
		c = append(c, "v.participant")
	}
	if p.visJobs {
		c = append(c, "(v.job_refs > 0 AND t.kind = 'customer')")
	}
	return "(" + strings.Join(c, " OR ") + ")" + p.visKind.only()
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

// visJoin and visWhere reach a staff member's threads from their visibility
// rows, each joined to its thread by primary key. CROSS JOIN is how SQLite
// is told the join order: without statistics its planner would rather walk
// the whole inbox index in order and probe the visibility rows, a cost that
// grows with the business instead of with what the staff member sees.
// PostgreSQL plans it as the inner join it is. The join condition sits in
// WHERE because PostgreSQL takes no ON after CROSS JOIN.
const visJoin = `FROM staff_thread_visibility v CROSS JOIN threads t`

const visWhere = `WHERE v.tenant_id = ? AND v.staff_id = ? AND t.tenant_id = v.tenant_id AND t.id = v.thread_id`

// unreadOf is the viewer's unread count of the thread aliased a.
func unreadOf(a string) string {
	return a + `.last_seq - coalesce((SELECT r.read_seq FROM read_marks r
  WHERE r.tenant_id = ` + a + `.tenant_id AND r.staff_id = ? AND r.thread_id = ` + a + `.id), 0)`
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
	if !ok || err != nil || id == "" {
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
	// conds are the predicates every branch shares, after its own.
	conds := ""
	var condArgs []slot
	if after {
		conds += " AND (t.last_message_at, t.id) < (?, ?)"
		condArgs = append(condArgs, slotAfterAt, slotAfterID)
	}
	if f == conversations.FilterUnread {
		conds += " AND t.last_seq > coalesce((SELECT r.read_seq FROM read_marks r\n  WHERE r.tenant_id = t.tenant_id AND r.staff_id = ? AND r.thread_id = t.id), 0)"
		condArgs = append(condArgs, staff)
	}
	// The page size is written into the text, not passed as a parameter: a
	// generic plan with an unknown LIMIT is costed as if it returned a tenth
	// of the rows, which makes PostgreSQL walk the whole inbox index for a
	// technician instead of their few visibility rows. Page sizes are few
	// (1..MaxPageSize, in practice one or two), so the statement cache holds
	// them all.
	lim := strconv.Itoa(limit)
	order := "\nORDER BY t.last_message_at DESC, t.id DESC LIMIT " + lim
	var branches []string
	if !parts.walk.empty() {
		branches = append(branches, "SELECT "+threadColumns("t")+", t.tenant_id\nFROM threads t\nWHERE t.tenant_id = ? AND NOT t.archived"+
			parts.walk.only()+conds+order)
		args = append(args, tenant)
		args = append(args, condArgs...)
	}
	if parts.vis() {
		branches = append(branches, "SELECT "+threadColumns("t")+", t.tenant_id\n"+visJoin+"\n"+visWhere+
			"\n  AND NOT t.archived AND "+parts.visCond()+conds+order)
		args = append(args, tenant, staff)
		args = append(args, condArgs...)
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
			") b2\nORDER BY last_message_at DESC, id DESC LIMIT " + lim + ") p"
	}
	query = "SELECT " + threadColumns("p") + ",\n  " + unreadOf("p") + "\nFROM " + from +
		"\nORDER BY p.last_message_at DESC, p.id DESC"
	args = append([]slot{staff}, args...)
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
