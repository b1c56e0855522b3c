package store

import (
	"context"
	"slices"
	"strings"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// maxVisibleThreads bounds the ids one VisibleThreads statement checks;
// more are checked in several.
const maxVisibleThreads = 200

// VisibleThreads returns those of ids the scope allows now, archived or not,
// sorted and without repeats; ids of other tenants and unknown ids are left
// out. It is Scope.Allows over a set of threads, split as the inbox splits a
// scope (inbox.go): a kind the scope sees whole is a primary-key read of the
// thread, the rest one probe each of the staff member's visibility rows.
// One statement per maxVisibleThreads ids.
func (s *DB) VisibleThreads(ctx context.Context, sc conversations.Scope, ids []conversations.ThreadID) ([]conversations.ThreadID, error) {
	const op = "visible threads"
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	ids = slices.DeleteFunc(ids, func(id conversations.ThreadID) bool { return id == "" })
	parts := splitScope(sc, kindSet{customer: true, internal: true})
	if sc.Tenant == "" || sc.Staff == "" || len(ids) == 0 || (parts.walk.empty() && !parts.vis()) {
		return nil, nil
	}
	var out []conversations.ThreadID
	for chunk := range slices.Chunk(ids, maxVisibleThreads) {
		query, args := visibleThreadsSQL(parts, sc, chunk)
		got, err := s.column(ctx, query, args...)
		if err != nil {
			return nil, dbErr(op, err)
		}
		for _, id := range got {
			out = append(out, conversations.ThreadID(id))
		}
	}
	slices.Sort(out)
	return out, nil
}

// visibleThreadsSQL selects the ids of the scope's threads among ids.
func visibleThreadsSQL(parts scopeParts, sc conversations.Scope, ids []conversations.ThreadID) (string, []any) {
	args := make([]any, 0, len(ids)+4)
	args = append(args, string(sc.Tenant))
	for _, id := range ids {
		args = append(args, string(id))
	}
	var terms []string
	if !parts.walk.empty() {
		terms = append(terms, "(1 = 1"+parts.walk.only("x")+")")
	}
	if parts.vis() {
		// The tenant is a parameter of the subquery too, not taken from x:
		// Citus routes a statement to one shard only when every table in it
		// is pinned to the tenant.
		terms = append(terms, "EXISTS (SELECT 1 FROM staff_thread_visibility v\n    WHERE v.tenant_id = ? AND v.staff_id = ? AND v.thread_id = x.id AND "+parts.visCond()+")")
		args = append(args, string(sc.Tenant), string(sc.Staff))
	}
	return "SELECT x.id FROM threads x WHERE x.tenant_id = ? AND x.id IN (?" + strings.Repeat(", ?", len(ids)-1) + ")\n  AND (" +
		strings.Join(terms, "\n  OR ") + ")", args
}
