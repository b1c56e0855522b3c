package store

import (
	"context"
	"strings"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

var _ conversations.PreferenceStore = (*DB)(nil)

// PutPreferences creates or replaces a staff member's notification
// preferences (p.Muted is ignored: SetMuted keeps mutes).
func (s *DB) PutPreferences(ctx context.Context, p conversations.Preferences) error {
	const op = "put preferences"
	switch {
	case p.Tenant == "":
		return invalid(op, "preferences.tenant", "empty")
	case p.Staff == "":
		return invalid(op, "preferences.staff", "empty")
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = s.now()
	}
	_, err := s.exec(ctx, `INSERT INTO staff_preferences
  (tenant_id, staff_id, push_mode, preview, quiet_start, quiet_end, time_zone, exclude_muted, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant_id, staff_id) DO UPDATE
SET push_mode = EXCLUDED.push_mode, preview = EXCLUDED.preview, quiet_start = EXCLUDED.quiet_start,
  quiet_end = EXCLUDED.quiet_end, time_zone = EXCLUDED.time_zone, exclude_muted = EXCLUDED.exclude_muted,
  updated_at = EXCLUDED.updated_at`,
		string(p.Tenant), string(p.Staff), string(p.Push), string(p.Preview), p.Quiet.Start, p.Quiet.End,
		p.Quiet.TimeZone, p.ExcludeMutedFromBadge, dbTime(p.UpdatedAt))
	return dbErr(op, err)
}

// GetPreferences returns a staff member's preferences with the threads they
// muted, or the defaults when they never saved any.
func (s *DB) GetPreferences(ctx context.Context, tenant conversations.TenantID, staff conversations.StaffID) (conversations.Preferences, error) {
	const op = "get preferences"
	rps, err := s.preferences(ctx, op, tenant, []conversations.PreferenceAsk{{Staff: staff}})
	if err != nil {
		return conversations.Preferences{}, err
	}
	p := rps[0].Preferences
	rows, err := s.query(ctx, `SELECT thread_id FROM thread_mutes WHERE tenant_id = ? AND staff_id = ? ORDER BY thread_id`,
		string(tenant), string(staff))
	if err != nil {
		return conversations.Preferences{}, dbErr(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return conversations.Preferences{}, dbErr(op, err)
		}
		p.Muted = append(p.Muted, conversations.ThreadID(id))
	}
	return p, dbErr(op, rows.Err())
}

// SetMuted mutes or unmutes a thread for a staff member. A thread the tenant
// does not have is ErrNotFound (the foreign key says so when muting; an
// unmute asks).
func (s *DB) SetMuted(ctx context.Context, tenant conversations.TenantID, staff conversations.StaffID, thread conversations.ThreadID, muted bool, at time.Time) error {
	const op = "set muted"
	switch {
	case tenant == "":
		return invalid(op, "tenant", "empty")
	case staff == "":
		return invalid(op, "staff", "empty")
	case thread == "":
		return invalid(op, "thread", "empty")
	}
	if at.IsZero() {
		at = s.now()
	}
	if muted {
		_, err := s.exec(ctx, `INSERT INTO thread_mutes (tenant_id, staff_id, thread_id, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT (tenant_id, staff_id, thread_id) DO NOTHING`, string(tenant), string(staff), string(thread), dbTime(at))
		return dbErr(op, err)
	}
	res, err := s.exec(ctx, `DELETE FROM thread_mutes WHERE tenant_id = ? AND staff_id = ? AND thread_id = ?`,
		string(tenant), string(staff), string(thread))
	if err != nil {
		return dbErr(op, err)
	}
	if n, err := res.RowsAffected(); err == nil && n > 0 {
		return nil
	}
	var one int
	err = s.queryRow(ctx, `SELECT 1 FROM threads WHERE tenant_id = ? AND id = ?`, string(tenant), string(thread)).Scan(&one)
	return dbErr(op, err)
}

// RecipientPreferences answers, in one statement, each ask's staff
// member's preferences and whether they muted its thread.
func (s *DB) RecipientPreferences(ctx context.Context, tenant conversations.TenantID, asks []conversations.PreferenceAsk) ([]conversations.RecipientPreferences, error) {
	return s.preferences(ctx, "recipient preferences", tenant, asks)
}

// preferences reads the preferences rows of the asks' staff and their
// mutes of the asks' threads, both tables' rows in one UNION ALL, by
// primary key (a mute of an asked thread by an asked person who was not
// asked about that thread is read and left out).
func (s *DB) preferences(ctx context.Context, op string, tenant conversations.TenantID, asks []conversations.PreferenceAsk) ([]conversations.RecipientPreferences, error) {
	out := make([]conversations.RecipientPreferences, len(asks))
	type pair struct {
		staff  conversations.StaffID
		thread conversations.ThreadID
	}
	at := make(map[conversations.StaffID][]int, len(asks))
	mutesAt := make(map[pair][]int)
	var staff []any
	var threads []any
	seenThread := map[conversations.ThreadID]bool{}
	for i, a := range asks {
		out[i].Preferences = conversations.Preferences{Tenant: tenant, Staff: a.Staff}
		if _, ok := at[a.Staff]; !ok {
			staff = append(staff, string(a.Staff))
		}
		at[a.Staff] = append(at[a.Staff], i)
		if a.Thread != "" {
			mutesAt[pair{a.Staff, a.Thread}] = append(mutesAt[pair{a.Staff, a.Thread}], i)
			if !seenThread[a.Thread] {
				seenThread[a.Thread] = true
				threads = append(threads, string(a.Thread))
			}
		}
	}
	if len(asks) == 0 {
		return out, nil
	}
	list := func(n int) string { return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")" }
	args := append([]any{string(tenant)}, staff...)
	query := `SELECT 'p', p.staff_id, '', p.push_mode, p.preview, p.quiet_start, p.quiet_end, p.time_zone, p.exclude_muted, p.updated_at
FROM staff_preferences p WHERE p.tenant_id = ? AND p.staff_id IN ` + list(len(staff))
	if len(threads) > 0 {
		query += `
UNION ALL
SELECT 'm', m.staff_id, m.thread_id, '', '', '', '', '', false, m.created_at
FROM thread_mutes m WHERE m.tenant_id = ? AND m.thread_id IN ` + list(len(threads)) + ` AND m.staff_id IN ` + list(len(staff))
		args = append(args, string(tenant))
		args = append(args, threads...)
		args = append(args, staff...)
	}
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, dbErr(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			what, id, thread string
			p                conversations.Preferences
		)
		if err := rows.Scan(&what, &id, &thread, &p.Push, &p.Preview, &p.Quiet.Start, &p.Quiet.End, &p.Quiet.TimeZone,
			&p.ExcludeMutedFromBadge, timeCol{&p.UpdatedAt}); err != nil {
			return nil, dbErr(op, err)
		}
		if what == "m" {
			for _, i := range mutesAt[pair{conversations.StaffID(id), conversations.ThreadID(thread)}] {
				out[i].ThreadMuted = true
			}
			continue
		}
		p.Tenant, p.Staff = tenant, conversations.StaffID(id)
		for _, i := range at[conversations.StaffID(id)] {
			out[i].Preferences = p
		}
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(op, err)
	}
	return out, nil
}
