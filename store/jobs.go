package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// jobRow is the table-backed conversations.Jobs, for hosts that let fieldtalk
// keep their jobs' context. Visibility does not depend on it: job
// assignments live in job_assignments whether or not the job is here.
type jobRow struct {
	bun.BaseModel `bun:"table:jobs"`

	TenantID      string    `bun:"tenant_id,pk"`
	ID            string    `bun:"id,pk"`
	Title         string    `bun:"title"`
	Status        string    `bun:"status"`
	WindowStart   time.Time `bun:"window_start,nullzero"`
	WindowEnd     time.Time `bun:"window_end,nullzero"`
	ETA           time.Time `bun:"eta,nullzero"`
	Address       string    `bun:"address"`
	Technician    string    `bun:"technician"`
	Business      string    `bun:"business"`
	CustomerPhone string    `bun:"customer_phone"`
	CustomerEmail string    `bun:"customer_email"`
	CustomerName  string    `bun:"customer_name"`
	CustomerRef   string    `bun:"customer_ref"`
	Notes         string    `bun:"notes"`
	TimeZone      string    `bun:"time_zone"`
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

func zeroOrDB(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return dbTime(t)
}

// PutJob creates or replaces a job's context.
func (s *DB) PutJob(ctx context.Context, j conversations.JobContext) error {
	const op = "put job"
	switch {
	case j.Tenant == "":
		return invalid(op, "job.tenant", "empty")
	case j.ID == "":
		return invalid(op, "job.id", "empty")
	}
	row := jobRow{
		TenantID: string(j.Tenant), ID: string(j.ID), Title: j.Title, Status: j.Status,
		WindowStart: zeroOrDB(j.WindowStart), WindowEnd: zeroOrDB(j.WindowEnd), ETA: zeroOrDB(j.ETA),
		Address: j.Address, Technician: j.Technician, Business: j.Business,
		CustomerPhone: j.Customer.Phone, CustomerEmail: j.Customer.Email,
		CustomerName: j.Customer.Name, CustomerRef: j.Customer.Ref,
		Notes: j.Notes, TimeZone: j.TimeZone,
	}
	q := s.idb.NewInsert().Model(&row).On("CONFLICT (tenant_id, id) DO UPDATE")
	for _, c := range []string{"title", "status", "window_start", "window_end", "eta", "address",
		"technician", "business", "customer_phone", "customer_email", "customer_name",
		"customer_ref", "notes", "time_zone"} {
		q = q.Set(c + " = EXCLUDED." + c)
	}
	_, err := q.Exec(ctx)
	return dbErr(op, err)
}

// Job returns a job's context; ErrNotFound for an unknown job or one of
// another tenant.
func (s *DB) Job(ctx context.Context, tenant conversations.TenantID, id conversations.JobID) (conversations.JobContext, error) {
	var r jobRow
	err := s.idb.NewSelect().Model(&r).
		Where("tenant_id = ?", string(tenant)).
		Where("id = ?", string(id)).
		Scan(ctx)
	if err != nil {
		return conversations.JobContext{}, dbErr("job", err)
	}
	return conversations.JobContext{
		Tenant: conversations.TenantID(r.TenantID), ID: conversations.JobID(r.ID),
		Title: r.Title, Status: r.Status,
		WindowStart: utcOrZero(r.WindowStart), WindowEnd: utcOrZero(r.WindowEnd), ETA: utcOrZero(r.ETA),
		Address: r.Address, Technician: r.Technician, Business: r.Business,
		Customer: conversations.Contact{Phone: r.CustomerPhone, Email: r.CustomerEmail, Name: r.CustomerName, Ref: r.CustomerRef},
		Notes:    r.Notes, TimeZone: r.TimeZone,
	}, nil
}
