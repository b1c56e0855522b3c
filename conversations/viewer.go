package conversations

import "time"

// Role is a staff member's role in a business. The policy decides what each role sees.
type Role string

const (
	RoleTechnician Role = "technician"
	RoleDispatcher Role = "dispatcher"
	RoleAdmin      Role = "admin"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	switch r {
	case RoleTechnician, RoleDispatcher, RoleAdmin:
		return true
	}
	return false
}

// Viewer is the person a call acts for: the host authenticates them and passes
// who they are. Every use case that acts for a person takes one.
type Viewer struct {
	Tenant TenantID
	Staff  StaffID
	Role   Role
}

// Validate reports a *FieldError when the viewer is incomplete.
func (v Viewer) Validate() error {
	if err := checkID("viewer.tenant", v.Tenant); err != nil {
		return err
	}
	if err := checkID("viewer.staff", v.Staff); err != nil {
		return err
	}
	if !v.Role.Valid() {
		return Invalid("viewer.role", "unknown role")
	}
	return nil
}

// Staff is a member of a business's staff, as the host's CRM knows them.
type Staff struct {
	Tenant    TenantID
	ID        StaffID
	Name      string
	Role      Role
	CreatedAt time.Time
}

// Viewer returns the Viewer for this staff member.
func (s Staff) Viewer() Viewer { return Viewer{Tenant: s.Tenant, Staff: s.ID, Role: s.Role} }
