package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/fieldtalk/fieldtalk/conversations"
)

type numberRow struct {
	bun.BaseModel `bun:"table:business_numbers"`

	TenantID         string    `bun:"tenant_id,pk"`
	Number           string    `bun:"number,pk"`
	Channel          string    `bun:"channel"`
	MessagingService string    `bun:"messaging_service"`
	IsDefault        bool      `bun:"is_default"`
	CreatedAt        time.Time `bun:"created_at"`
}

func (r numberRow) domain() conversations.BusinessNumber {
	return conversations.BusinessNumber{
		Tenant:           conversations.TenantID(r.TenantID),
		Number:           r.Number,
		Channel:          r.Channel,
		MessagingService: r.MessagingService,
		Default:          r.IsDefault,
		CreatedAt:        r.CreatedAt.UTC(),
	}
}

// PutNumber provisions n.Number to n.Tenant, or updates it when the tenant
// has it already. A number provisioned to another tenant is ErrConflict.
// Setting Default clears the tenant's other default of the same channel.
func (s *DB) PutNumber(ctx context.Context, n conversations.BusinessNumber) error {
	const op = "put number"
	switch {
	case n.Tenant == "":
		return invalid(op, "number.tenant", "empty")
	case n.Number == "":
		return invalid(op, "number.number", "empty")
	case n.Channel == "":
		return invalid(op, "number.channel", "empty")
	}
	created := n.CreatedAt
	if created.IsZero() {
		created = s.now()
	}
	return s.atomic(ctx, func(tx *DB) error {
		var owner string
		err := tx.idb.NewSelect().Model((*numberRow)(nil)).Column("tenant_id").
			Where("number = ?", n.Number).
			Scan(ctx, &owner)
		switch {
		case err == nil && owner != string(n.Tenant):
			return fmt.Errorf("store: %s: %s is provisioned to another business: %w", op, n.Number, conversations.ErrConflict)
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return dbErr(op, err)
		}
		if n.Default {
			_, err := tx.idb.NewUpdate().Model((*numberRow)(nil)).
				Set("is_default = ?", false).
				Where("tenant_id = ?", string(n.Tenant)).
				Where("channel = ?", n.Channel).
				Where("number <> ?", n.Number).
				Where("is_default").
				Exec(ctx)
			if err != nil {
				return dbErr(op, err)
			}
		}
		row := numberRow{
			TenantID: string(n.Tenant), Number: n.Number, Channel: n.Channel,
			MessagingService: n.MessagingService, IsDefault: n.Default, CreatedAt: dbTime(created),
		}
		// A racing tenant that provisions the same number first makes this
		// insert hit business_numbers_number: ErrConflict by SQLSTATE.
		_, err = tx.idb.NewInsert().Model(&row).
			On("CONFLICT (tenant_id, number) DO UPDATE").
			Set("channel = EXCLUDED.channel").
			Set("messaging_service = EXCLUDED.messaging_service").
			Set("is_default = EXCLUDED.is_default").
			Exec(ctx)
		return dbErr(op, err)
	})
}

// NumberOwner finds the business a number is provisioned to.
// It runs on every inbound webhook, so it is a cached statement (see
// sqlexec.go) rather than a bun query, whose text carries the number.
func (s *DB) NumberOwner(ctx context.Context, number string) (conversations.BusinessNumber, error) {
	var row numberRow
	err := s.queryRow(ctx, `SELECT tenant_id, number, channel, messaging_service, is_default, created_at
FROM business_numbers WHERE number = ?`, number).Scan(&row.TenantID, &row.Number, &row.Channel,
		&row.MessagingService, &row.IsDefault, timeCol{&row.CreatedAt})
	if err != nil {
		return conversations.BusinessNumber{}, dbErr("number owner", err)
	}
	return row.domain(), nil
}

// ListNumbers returns a tenant's numbers, defaults first, then by number.
func (s *DB) ListNumbers(ctx context.Context, tenant conversations.TenantID) ([]conversations.BusinessNumber, error) {
	var rows []numberRow
	err := s.idb.NewSelect().Model(&rows).
		Where("tenant_id = ?", string(tenant)).
		Order("is_default DESC", "number ASC").
		Scan(ctx)
	if err != nil {
		return nil, dbErr("list numbers", err)
	}
	out := make([]conversations.BusinessNumber, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}
