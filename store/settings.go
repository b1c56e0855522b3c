package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/fieldtalk/fieldtalk/conversations"
)

type settingsRow struct {
	bun.BaseModel `bun:"table:business_settings"`

	TenantID   string    `bun:"tenant_id,pk"`
	Name       string    `bun:"name"`
	QuietStart string    `bun:"quiet_start"`
	QuietEnd   string    `bun:"quiet_end"`
	TimeZone   string    `bun:"time_zone"`
	UpdatedAt  time.Time `bun:"updated_at"`
}

// PutSettings creates or replaces a business's settings.
func (s *DB) PutSettings(ctx context.Context, st conversations.Settings) error {
	if st.Tenant == "" {
		return invalid("put settings", "settings.tenant", "empty")
	}
	if st.UpdatedAt.IsZero() {
		st.UpdatedAt = s.now()
	}
	row := settingsRow{
		TenantID: string(st.Tenant), Name: st.Name, QuietStart: st.Quiet.Start, QuietEnd: st.Quiet.End,
		TimeZone: st.Quiet.TimeZone, UpdatedAt: dbTime(st.UpdatedAt),
	}
	_, err := s.idb.NewInsert().Model(&row).
		On("CONFLICT (tenant_id) DO UPDATE").
		Set("name = EXCLUDED.name, quiet_start = EXCLUDED.quiet_start, quiet_end = EXCLUDED.quiet_end").
		Set("time_zone = EXCLUDED.time_zone, updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	return dbErr("put settings", err)
}

// GetSettings returns a business's settings, or zero settings when it never
// saved any.
func (s *DB) GetSettings(ctx context.Context, tenant conversations.TenantID) (conversations.Settings, error) {
	var row settingsRow
	err := s.idb.NewSelect().Model(&row).Where("tenant_id = ?", string(tenant)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return conversations.Settings{Tenant: tenant}, nil
	}
	if err != nil {
		return conversations.Settings{}, dbErr("get settings", err)
	}
	return conversations.Settings{
		Tenant: tenant, Name: row.Name, UpdatedAt: row.UpdatedAt.UTC(),
		Quiet: conversations.QuietHours{Start: row.QuietStart, End: row.QuietEnd, TimeZone: row.TimeZone},
	}, nil
}
