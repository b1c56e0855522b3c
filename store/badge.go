package store

import (
	"context"
	"strings"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/pgexec"
)

// badgeSQL sums the staff member's unread messages over the threads the
// scope allows, split as the inbox splits them (see inbox.go):
//
//   - customer threads seen whole: the tenant's message counter minus the
//     staff member's read counter, two primary-key reads however big the
//     business (both counters are kept over non-archived customer threads);
//   - internal threads seen whole: a walk of the tenant's inbox index;
//   - the rest: a sum over the staff member's visibility rows, which carry
//     their thread's last_seq and archived flag and the staff member's read
//     horizon (on PostgreSQL, index-only on the visibility inbox index);
//   - less, when the staff member's preferences exclude muted threads from
//     the badge, the unread of their muted threads that the scope allows
//     (mutedUnreadSQL).
func badgeSQL(sc conversations.Scope) (string, []slot, bool) {
	parts := splitScope(sc, kindSet{customer: true, internal: true})
	tenant, staff := slotTenant, slotStaff
	var (
		terms []string
		args  []slot
	)
	if parts.walk.customer {
		terms = append(terms, `coalesce((SELECT CAST(sum(c.customer_seq_sum) AS BIGINT) FROM tenant_counters c WHERE c.tenant_id = ?), 0)
 - coalesce((SELECT c.customer_read_sum FROM staff_read_counters c WHERE c.tenant_id = ? AND c.staff_id = ?), 0)`)
		args = append(args, tenant, tenant, staff)
	}
	if parts.walk.internal {
		terms = append(terms, `coalesce((SELECT sum(`+unreadOf("t")+`)
  FROM threads t WHERE t.tenant_id = ? AND NOT t.archived AND t.kind = 'internal'), 0)`)
		args = append(args, tenant, staff, tenant)
	}
	if parts.vis() {
		terms = append(terms, `coalesce((SELECT sum(v.last_seq - v.read_seq)
  `+parts.visRows()+`), 0)`)
		args = append(args, tenant, staff)
	}
	if len(terms) == 0 {
		return "", nil, false
	}
	muted, mutedArgs := mutedUnreadSQL(parts)
	terms = append(terms, muted)
	args = append(args, mutedArgs...)
	// sum() over bigint is numeric on PostgreSQL: cast the total back.
	return "SELECT CAST(" + strings.Join(terms, "\n + ") + " AS BIGINT)", args, true
}

// Badge returns the scope's staff member's unread messages summed over
// exactly the non-archived threads the scope allows; 0 for a scope without a
// tenant or a staff member.
func (s *DB) Badge(ctx context.Context, sc conversations.Scope) (int64, error) {
	st, ok := s.badgeStatement(sc)
	if !ok {
		return 0, nil
	}
	v := scopeValues(sc)
	var n int64
	if err := s.read(ctx, st, &v, []any{&n}, func() error { return nil }); err != nil {
		return 0, dbErr("badge", err)
	}
	return n, nil
}

// badgeStatement is sc's badge statement; ok is false when sc allows nothing.
func (s *DB) badgeStatement(sc conversations.Scope) (shaped, bool) {
	if sc.Tenant == "" || sc.Staff == "" {
		return shaped{}, false
	}
	shape := badgeShape{accessOf(sc)}
	st := s.statement(shape, func() (string, []slot) {
		query, slots, _ := badgeSQL(shape.access)
		return query, slots
	})
	return st, st.text != ""
}

// Badges answers Badge for each scope, in order. On PostgreSQL the scopes'
// statements go out in one pipeline (one round trip for a new message's
// watchers), each the cached statement Badge runs: one statement joining
// them would be a new text, and a new plan, for every combination of
// watchers.
func (s *DB) Badges(ctx context.Context, scopes []conversations.Scope) ([]int64, error) {
	out := make([]int64, len(scopes))
	if !s.pg() {
		// In process: a round trip costs nothing to save.
		for i, sc := range scopes {
			n, err := s.Badge(ctx, sc)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	}
	var stmts []pgexec.Statement
	for i, sc := range scopes {
		if st, ok := s.badgeStatement(sc); ok {
			v := scopeValues(sc)
			stmts = append(stmts, pgexec.Statement{SQL: st.text, Args: v.args(st.slots), Dest: []any{&out[i]}})
		}
	}
	if len(stmts) > 0 {
		if err := s.pipeline(ctx, "badges", stmts...); err != nil {
			return nil, dbErr("badges", err)
		}
	}
	return out, nil
}

// badgeShape is what badgeSQL builds from.
type badgeShape struct{ access conversations.Scope }

// mutedUnreadSQL is the term subtracted from the badge for a staff member
// whose preferences exclude muted threads: the unread messages of their
// muted, non-archived threads that the parts allow. It walks their few
// thread_mutes rows (a primary-key range) and probes each thread, and is
// zero without a look at the mutes when the preference is off (the
// EXISTS on staff_preferences is one primary-key probe). Every subquery
// names the tenant, so that Citus routes the statement to one shard.
func mutedUnreadSQL(parts scopeParts) (string, []slot) {
	tenant, staff := slotTenant, slotStaff
	var allowed []string
	var allowedArgs []slot
	if parts.walk.customer {
		allowed = append(allowed, "t.kind = 'customer'")
	}
	if parts.walk.internal {
		allowed = append(allowed, "t.kind = 'internal'")
	}
	if parts.vis() {
		allowed = append(allowed, `EXISTS (SELECT 1 FROM staff_thread_visibility v
    WHERE v.tenant_id = ? AND v.staff_id = ? AND v.thread_id = t.id AND `+parts.visCond()+`)`)
		allowedArgs = append(allowedArgs, tenant, staff)
	}
	query := `- coalesce((SELECT sum(` + unreadOf("t") + `)
  FROM thread_mutes m JOIN threads t ON t.tenant_id = m.tenant_id AND t.id = m.thread_id
  WHERE m.tenant_id = ? AND m.staff_id = ? AND t.tenant_id = ? AND NOT t.archived AND (` + strings.Join(allowed, " OR ") + `)
    AND EXISTS (SELECT 1 FROM staff_preferences p WHERE p.tenant_id = ? AND p.staff_id = ? AND p.exclude_muted)), 0)`
	args := []slot{tenant, staff, tenant, staff, tenant}
	args = append(args, allowedArgs...)
	args = append(args, tenant, staff)
	return query, args
}
