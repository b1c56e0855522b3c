package policy

import (
	"slices"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Rules is a visibility rule set.
type Rules struct {
	// SeeAllCustomer lists the roles that see every customer thread of their business.
	SeeAllCustomer []conversations.Role
	// SeeAllInternal lists the roles that see every internal thread of their business.
	SeeAllInternal []conversations.Role
	// Participants: staff see the threads they take part in.
	Participants bool
	// Assignees: staff see the customer threads linked to jobs they are assigned to.
	Assignees bool
	// Fallback lists the roles told of a customer message when no
	// participant or assignee watches the thread (so no message goes unseen).
	Fallback []conversations.Role
}

// Default returns the product's rule set.
func Default() Rules {
	return Rules{
		SeeAllCustomer: []conversations.Role{conversations.RoleDispatcher, conversations.RoleAdmin},
		Participants:   true,
		Assignees:      true,
		Fallback:       []conversations.Role{conversations.RoleDispatcher, conversations.RoleAdmin},
	}
}

var _ conversations.Policy = Rules{}

// Scope returns what v may see. An invalid viewer gets a Scope that allows nothing.
func (r Rules) Scope(v conversations.Viewer) conversations.Scope {
	if v.Validate() != nil {
		return conversations.Scope{}
	}
	return conversations.Scope{
		Tenant:      v.Tenant,
		Staff:       v.Staff,
		AllCustomer: slices.Contains(r.SeeAllCustomer, v.Role),
		AllInternal: slices.Contains(r.SeeAllInternal, v.Role),
		Participant: r.Participants,
		Assigned:    r.Assignees,
	}
}

// CanView reports whether v may see t (t must carry Participants and Assignees).
func (r Rules) CanView(v conversations.Viewer, t conversations.Thread) bool {
	return r.Scope(v).Allows(t)
}

// Watchers returns, in staff order, who should be told of a new message in t:
// its participants and the assignees of its linked jobs, and, for a customer
// thread nobody watches, the staff whose role is in Fallback. Only staff of
// t's business who may see t are returned.
func (r Rules) Watchers(t conversations.Thread, staff []conversations.Staff) []conversations.StaffID {
	var out []conversations.StaffID
	for _, s := range staff {
		if s.Tenant != t.Tenant || !r.CanView(s.Viewer(), t) {
			continue
		}
		if t.HasParticipant(s.ID) || (t.Kind == conversations.ThreadCustomer && r.Assignees && t.HasAssignee(s.ID)) {
			out = append(out, s.ID)
		}
	}
	if len(out) > 0 || t.Kind != conversations.ThreadCustomer {
		return out
	}
	for _, s := range staff {
		if s.Tenant == t.Tenant && slices.Contains(r.Fallback, s.Role) && r.CanView(s.Viewer(), t) {
			out = append(out, s.ID)
		}
	}
	return out
}
