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
//     horizon (on PostgreSQL, index-only on the visibility inbox index).
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
