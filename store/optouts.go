package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/fieldtalk/fieldtalk/conversations"
)

type optOutEventRow struct {
	bun.BaseModel `bun:"table:opt_out_events"`

	TenantID       string    `bun:"tenant_id,pk"`
	ID             string    `bun:"id,pk"`
	Address        string    `bun:"address"`
	BusinessNumber string    `bun:"business_number"`
	Keyword        string    `bun:"keyword"`
	OptedOut       bool      `bun:"opted_out"`
	At             time.Time `bun:"at"`
}

type optOutRow struct {
	bun.BaseModel `bun:"table:opt_outs"`

	TenantID       string    `bun:"tenant_id,pk"`
	Address        string    `bun:"address,pk"`
	BusinessNumber string    `bun:"business_number"`
	Keyword        string    `bun:"keyword"`
	OptedOut       bool      `bun:"opted_out"`
	At             time.Time `bun:"at"`
}

func optOut(tenant, address, number, keyword string, out bool, at time.Time) conversations.OptOut {
	return conversations.OptOut{
		Tenant: conversations.TenantID(tenant), Address: address, BusinessNumber: number,
		Keyword: keyword, OptedOut: out, At: at.UTC(),
	}
}

// RecordOptOut appends e to the ledger and makes it the address's current
// state for the tenant, in one transaction. A zero At means now; the keyword
// is stored upper-cased.
func (s *DB) RecordOptOut(ctx context.Context, e conversations.OptOut) error {
	const op = "record opt-out"
	switch {
	case e.Tenant == "":
		return invalid(op, "optout.tenant", "empty")
	case e.Address == "":
		return invalid(op, "optout.address", "empty")
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	ev := optOutEventRow{
		TenantID: string(e.Tenant), ID: conversations.NewID[string](),
		Address: e.Address, BusinessNumber: e.BusinessNumber, Keyword: strings.ToUpper(e.Keyword),
		OptedOut: e.OptedOut, At: dbTime(e.At),
	}
	return s.atomic(ctx, func(tx *DB) error {
		if _, err := tx.idb.NewInsert().Model(&ev).Exec(ctx); err != nil {
			return dbErr(op, err)
		}
		cur := optOutRow{
			TenantID: ev.TenantID, Address: ev.Address, BusinessNumber: ev.BusinessNumber,
			Keyword: ev.Keyword, OptedOut: ev.OptedOut, At: ev.At,
		}
		_, err := tx.idb.NewInsert().Model(&cur).
			On("CONFLICT (tenant_id, address) DO UPDATE").
			Set("business_number = EXCLUDED.business_number").
			Set("keyword = EXCLUDED.keyword").
			Set("opted_out = EXCLUDED.opted_out").
			Set("at = EXCLUDED.at").
			Exec(ctx)
		return dbErr(op, err)
	})
}

// OptedOut reports whether address is currently opted out of the tenant's
// SMS, with the ledger entry that set the current state (the zero OptOut
// when the address never opted out or in).
func (s *DB) OptedOut(ctx context.Context, tenant conversations.TenantID, address string) (conversations.OptOut, bool, error) {
	var r optOutRow
	err := s.idb.NewSelect().Model(&r).
		Where("tenant_id = ?", string(tenant)).
		Where("address = ?", address).
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return conversations.OptOut{}, false, nil
	}
	if err != nil {
		return conversations.OptOut{}, false, dbErr("opted out", err)
	}
	return optOut(r.TenantID, r.Address, r.BusinessNumber, r.Keyword, r.OptedOut, r.At), r.OptedOut, nil
}

// OptOutLedger returns an address's opt-out ledger for the tenant, oldest
// entry first: every STOP and START as it was recorded, for audits.
func (s *DB) OptOutLedger(ctx context.Context, tenant conversations.TenantID, address string) ([]conversations.OptOut, error) {
	var rows []optOutEventRow
	err := s.idb.NewSelect().Model(&rows).
		Where("tenant_id = ?", string(tenant)).
		Where("address = ?", address).
		Order("id ASC").
		Scan(ctx)
	if err != nil {
		return nil, dbErr("opt-out ledger", err)
	}
	out := make([]conversations.OptOut, len(rows))
	for i, r := range rows {
		out[i] = optOut(r.TenantID, r.Address, r.BusinessNumber, r.Keyword, r.OptedOut, r.At)
	}
	return out, nil
}
