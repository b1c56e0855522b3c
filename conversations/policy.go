package conversations

// Policy decides visibility. The policy package provides the product's rules;
// a host may supply its own. Implementations are pure (no I/O) and safe for
// concurrent use.
type Policy interface {
	// Scope returns what v may see. The Service checks every thread it
	// touches for v with Scope(v).Allows, and lists with the same Scope.
	Scope(v Viewer) Scope
	// Watchers returns who should be told of a new message in t, chosen
	// from staff (the tenant's staff directory): each must be allowed to see t.
	Watchers(t Thread, staff []Staff) []StaffID
}
