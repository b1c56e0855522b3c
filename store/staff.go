package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/fieldtalk/fieldtalk/conversations"
)

type staffRow struct {
	bun.BaseModel `bun:"table:staff"`

	TenantID  string    `bun:"tenant_id,pk"`
	ID        string    `bun:"id,pk"`
	Name      string    `bun:"name"`
	Role      string    `bun:"role"`
	CreatedAt time.Time `bun:"created_at"`
}

func (r staffRow) domain() conversations.Staff {
	return conversations.Staff{
		Tenant:    conversations.TenantID(r.TenantID),
		ID:        conversations.StaffID(r.ID),
		Name:      r.Name,
		Role:      conversations.Role(r.Role),
		CreatedAt: r.CreatedAt.UTC(),
	}
}

// PutStaff creates or updates a staff member. An update keeps the original
// CreatedAt; a zero CreatedAt on create means now.
func (s *DB) PutStaff(ctx context.Context, st conversations.Staff) error {
	const op = "put staff"
	switch {
	case st.Tenant == "":
		return invalid(op, "staff.tenant", "empty")
	case st.ID == "":
		return invalid(op, "staff.id", "empty")
	case !st.Role.Valid():
		return invalid(op, "staff.role", "unknown role "+string(st.Role))
	}
	created := st.CreatedAt
	if created.IsZero() {
		created = s.now()
	}
	row := staffRow{TenantID: string(st.Tenant), ID: string(st.ID), Name: st.Name, Role: string(st.Role), CreatedAt: dbTime(created)}
	_, err := s.idb.NewInsert().Model(&row).
		On("CONFLICT (tenant_id, id) DO UPDATE").
		Set("name = EXCLUDED.name").
		Set("role = EXCLUDED.role").
		Exec(ctx)
	return dbErr(op, err)
}

// GetStaff returns a staff member, ErrNotFound when the tenant has none by that id.
func (s *DB) GetStaff(ctx context.Context, tenant conversations.TenantID, id conversations.StaffID) (conversations.Staff, error) {
	var row staffRow
	err := s.idb.NewSelect().Model(&row).
		Where("tenant_id = ?", string(tenant)).
		Where("id = ?", string(id)).
		Scan(ctx)
	if err != nil {
		return conversations.Staff{}, dbErr("get staff", err)
	}
	return row.domain(), nil
}

// ListStaff returns the tenant's staff ordered by id.
func (s *DB) ListStaff(ctx context.Context, tenant conversations.TenantID) ([]conversations.Staff, error) {
	var rows []staffRow
	err := s.idb.NewSelect().Model(&rows).
		Where("tenant_id = ?", string(tenant)).
		Order("id ASC").
		Scan(ctx)
	if err != nil {
		return nil, dbErr("list staff", err)
	}
	out := make([]conversations.Staff, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}
