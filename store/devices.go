package store

import (
	"context"
	"fmt"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Device is one app install registered for phone push: the token the push
// service (FCM) gave it, and the staff member signed in on it.
type Device struct {
	Tenant    conversations.TenantID
	Staff     conversations.StaffID
	Token     string
	Platform  string    // "ios", "android", "web", ...: informational
	CreatedAt time.Time // first registered
	UpdatedAt time.Time // last registered (apps register again on every start)
}

// MaxDeviceTokenBytes bounds a push token (FCM's are about 160 bytes).
const MaxDeviceTokenBytes = 4096

// RegisterDevice records that d.Token reaches d.Staff. Registering a token
// again refreshes UpdatedAt, and moves it when another staff member of the
// tenant signed in on that phone. An unknown staff member is ErrNotFound.
func (s *DB) RegisterDevice(ctx context.Context, d Device) error {
	const op = "register device"
	switch {
	case d.Tenant == "":
		return invalid(op, "device.tenant", "empty")
	case d.Staff == "":
		return invalid(op, "device.staff", "empty")
	case d.Token == "":
		return invalid(op, "token", "empty")
	case len(d.Token) > MaxDeviceTokenBytes:
		return invalid(op, "token", "longer than 4096 bytes")
	}
	// The domain's text rules (conversations.CheckLine): no NUL or other
	// control character reaches the table.
	for _, f := range []struct{ field, s string }{
		{"device.tenant", string(d.Tenant)}, {"device.staff", string(d.Staff)},
		{"token", d.Token}, {"platform", d.Platform},
	} {
		if err := conversations.CheckLine(f.field, f.s, conversations.MaxTokenRunes); err != nil {
			return fmt.Errorf("store: %s: %w", op, err)
		}
	}
	now := d.UpdatedAt
	if now.IsZero() {
		now = s.now()
	}
	created := d.CreatedAt
	if created.IsZero() {
		created = now
	}
	_, err := s.exec(ctx, `INSERT INTO push_devices (tenant_id, token, staff_id, platform, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant_id, token) DO UPDATE
SET staff_id = EXCLUDED.staff_id, platform = EXCLUDED.platform, updated_at = EXCLUDED.updated_at`,
		string(d.Tenant), d.Token, string(d.Staff), d.Platform, dbTime(created), dbTime(now))
	return dbErr(op, err)
}

// Devices returns staff's registered devices, ordered by token.
func (s *DB) Devices(ctx context.Context, tenant conversations.TenantID, staff conversations.StaffID) ([]Device, error) {
	const op = "devices"
	rows, err := s.query(ctx, `SELECT token, platform, created_at, updated_at FROM push_devices
WHERE tenant_id = ? AND staff_id = ? ORDER BY token`, string(tenant), string(staff))
	if err != nil {
		return nil, dbErr(op, err)
	}
	defer rows.Close()
	var out []Device
	for rows.Next() {
		d := Device{Tenant: tenant, Staff: staff}
		if err := rows.Scan(&d.Token, &d.Platform, timeCol{&d.CreatedAt}, timeCol{&d.UpdatedAt}); err != nil {
			return nil, dbErr(op, err)
		}
		out = append(out, d)
	}
	return out, dbErr(op, rows.Err())
}

// DeviceTokens returns the push tokens of staff's devices, ordered.
func (s *DB) DeviceTokens(ctx context.Context, tenant conversations.TenantID, staff conversations.StaffID) ([]string, error) {
	const op = "device tokens"
	out, err := s.column(ctx, `SELECT token FROM push_devices WHERE tenant_id = ? AND staff_id = ? ORDER BY token`,
		string(tenant), string(staff))
	if err != nil {
		return nil, dbErr(op, err)
	}
	return out, nil
}

// RemoveDeviceToken forgets a token (the app signed out, or the push service
// said the token is dead). Removing an unknown token is not an error.
func (s *DB) RemoveDeviceToken(ctx context.Context, tenant conversations.TenantID, token string) error {
	_, err := s.exec(ctx, `DELETE FROM push_devices WHERE tenant_id = ? AND token = ?`, string(tenant), token)
	return dbErr("remove device token", err)
}
