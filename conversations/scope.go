package conversations

// Scope is what one viewer may see, as plain data: the policy makes it from a
// Viewer, Allows is the in-memory truth, and the Store turns the same Scope
// into SQL. The two must agree; the store's conformance suite checks that they
// do on random data.
type Scope struct {
	Tenant TenantID
	Staff  StaffID
	// AllCustomer: every customer thread of the tenant.
	AllCustomer bool
	// AllInternal: every internal thread of the tenant.
	AllInternal bool
	// Participant: threads of any kind that Staff takes part in.
	Participant bool
	// Assigned: customer threads linked to a job Staff is assigned to.
	Assigned bool
}

// Allows reports whether the scope admits t. t must carry its Participants
// and Assignees (as Service.Thread and the store's GetThread return it).
func (s Scope) Allows(t Thread) bool {
	if s.Tenant == "" || t.Tenant != s.Tenant {
		return false
	}
	switch {
	case t.Kind == ThreadCustomer && s.AllCustomer,
		t.Kind == ThreadInternal && s.AllInternal,
		s.Participant && t.HasParticipant(s.Staff),
		t.Kind == ThreadCustomer && s.Assigned && t.HasAssignee(s.Staff):
		return true
	}
	return false
}
