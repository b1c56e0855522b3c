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

type suggestionRow struct {
	bun.BaseModel `bun:"table:suggestions"`

	TenantID   string    `bun:"tenant_id,pk"`
	ID         string    `bun:"id,pk"`
	ViewerID   string    `bun:"viewer_id"`
	ThreadID   string    `bun:"thread_id"`
	MessageID  string    `bun:"message_id"`
	Position   int       `bun:"position"`
	Body       string    `bun:"body"`
	Intent     string    `bun:"intent"`
	Confidence float64   `bun:"confidence"`
	Urgent     bool      `bun:"urgent"`
	Source     string    `bun:"source"`
	State      string    `bun:"state"`
	SentID     string    `bun:"sent_id"`
	Language   string    `bun:"language"`
	EditDist   *int      `bun:"edit_distance"`
	CreatedAt  time.Time `bun:"created_at"`
}

func (r suggestionRow) domain() conversations.Suggestion {
	return conversations.Suggestion{
		ID: conversations.SuggestionID(r.ID), Tenant: conversations.TenantID(r.TenantID),
		Thread: conversations.ThreadID(r.ThreadID), ForMessage: conversations.MessageID(r.MessageID),
		Viewer: conversations.StaffID(r.ViewerID), Text: r.Body, Intent: conversations.Intent(r.Intent),
		Confidence: r.Confidence, Urgent: r.Urgent, Source: r.Source, Language: r.Language,
		State: conversations.SuggestionState(r.State), Sent: conversations.MessageID(r.SentID),
		CreatedAt: r.CreatedAt.UTC(),
	}
}

// PutSuggestions stores suggestions offered to one viewer for one inbound
// message; they must share tenant, viewer, thread and message.
func (s *DB) PutSuggestions(ctx context.Context, ss []conversations.Suggestion) error {
	const op = "put suggestions"
	if len(ss) == 0 {
		return nil
	}
	first := ss[0]
	if first.Tenant == "" || first.Viewer == "" || first.Thread == "" || first.ForMessage == "" {
		return invalid(op, "suggestion", "tenant, viewer, thread and message are required")
	}
	rows := make([]suggestionRow, len(ss))
	for i, sg := range ss {
		if sg.Tenant != first.Tenant || sg.Viewer != first.Viewer || sg.Thread != first.Thread || sg.ForMessage != first.ForMessage {
			return invalid(op, "suggestion", "one batch is for one viewer, thread and message")
		}
		if sg.ID == "" {
			sg.ID = conversations.NewID[conversations.SuggestionID]()
		}
		if sg.CreatedAt.IsZero() {
			sg.CreatedAt = s.now()
		}
		rows[i] = suggestionRow{
			TenantID: string(sg.Tenant), ID: string(sg.ID), ViewerID: string(sg.Viewer), ThreadID: string(sg.Thread),
			MessageID: string(sg.ForMessage), Position: i, Body: sg.Text, Intent: string(sg.Intent),
			Confidence: sg.Confidence, Urgent: sg.Urgent, Source: sg.Source, Language: sg.Language,
			State: string(conversations.SuggestionOffered), CreatedAt: dbTime(sg.CreatedAt),
		}
	}
	if _, err := s.idb.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return dbErr(op, err)
	}
	return nil
}

// Suggestions returns what was offered to viewer for an inbound message, in
// the order offered.
func (s *DB) Suggestions(ctx context.Context, tenant conversations.TenantID, viewer conversations.StaffID, forMessage conversations.MessageID) ([]conversations.Suggestion, error) {
	var rows []suggestionRow
	err := s.idb.NewSelect().Model(&rows).
		Where("tenant_id = ?", string(tenant)).
		Where("viewer_id = ?", string(viewer)).
		Where("message_id = ?", string(forMessage)).
		Order("position").
		Scan(ctx)
	if err != nil {
		return nil, dbErr("suggestions", err)
	}
	out := make([]conversations.Suggestion, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// GetSuggestion returns one suggestion offered to viewer.
func (s *DB) GetSuggestion(ctx context.Context, tenant conversations.TenantID, viewer conversations.StaffID, id conversations.SuggestionID) (conversations.Suggestion, error) {
	var row suggestionRow
	err := s.idb.NewSelect().Model(&row).
		Where("tenant_id = ?", string(tenant)).
		Where("id = ?", string(id)).
		Where("viewer_id = ?", string(viewer)).
		Scan(ctx)
	if err != nil {
		return conversations.Suggestion{}, dbErr("get suggestion", err)
	}
	return row.domain(), nil
}

// SetSuggestionState moves an offered suggestion to used, edited or
// dismissed. Repeating the state it has is a no-op; changing a suggestion
// that is no longer offered is ErrConflict. An edited suggestion records how
// far the message sent (sent) is from it, in characters, for
// SuggestionRates.
func (s *DB) SetSuggestionState(ctx context.Context, tenant conversations.TenantID, viewer conversations.StaffID, id conversations.SuggestionID, state conversations.SuggestionState, sent conversations.MessageID) (conversations.Suggestion, error) {
	const op = "set suggestion state"
	switch state {
	case conversations.SuggestionUsed, conversations.SuggestionEdited, conversations.SuggestionDismissed:
	default:
		return conversations.Suggestion{}, invalid(op, "state", "must be used, edited or dismissed")
	}
	var out conversations.Suggestion
	err := s.atomic(ctx, func(tx *DB) error {
		res, err := tx.idb.NewUpdate().Model((*suggestionRow)(nil)).
			Set("state = ?", string(state)).
			Set("sent_id = ?", string(sent)).
			Where("tenant_id = ?", string(tenant)).
			Where("id = ?", string(id)).
			Where("viewer_id = ?", string(viewer)).
			Where("state = ?", string(conversations.SuggestionOffered)).
			Exec(ctx)
		if err != nil {
			return dbErr(op, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return dbErr(op, err)
		}
		if out, err = tx.GetSuggestion(ctx, tenant, viewer, id); err != nil {
			return err
		}
		if n == 0 && (out.State != state || out.Sent != sent) {
			return fmt.Errorf("store: %s: suggestion %s is already %s: %w", op, id, out.State, conversations.ErrConflict)
		}
		if n == 0 || state != conversations.SuggestionEdited || sent == "" {
			return nil
		}
		var body string
		err = tx.idb.NewSelect().Table("messages").Column("body").
			Where("tenant_id = ?", string(tenant)).Where("id = ?", string(sent)).
			Scan(ctx, &body)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // a message this store does not hold: no distance to record
		}
		if err != nil {
			return dbErr(op, err)
		}
		_, err = tx.idb.NewUpdate().Model((*suggestionRow)(nil)).
			Set("edit_distance = ?", editDistance(out.Text, body)).
			Where("tenant_id = ?", string(tenant)).
			Where("id = ?", string(id)).
			Exec(ctx)
		return dbErr(op, err)
	})
	return out, err
}

// SuggestionRates returns, per intent and source, what staff did with the
// suggestions of tenant made at or after since (zero: all of them), ordered
// by intent and source. A host reads it to see which intents need work.
func (s *DB) SuggestionRates(ctx context.Context, tenant conversations.TenantID, since time.Time) ([]conversations.SuggestionRate, error) {
	var rows []struct {
		Intent string `bun:"intent"`
		Source string `bun:"source"`
		State  string `bun:"state"`
		N      int    `bun:"n"`
		Edits  int64  `bun:"edits"`
	}
	q := s.idb.NewSelect().Model((*suggestionRow)(nil)).
		Column("intent", "source", "state").
		ColumnExpr("count(*) AS n").
		ColumnExpr("coalesce(sum(edit_distance), 0) AS edits").
		Where("tenant_id = ?", string(tenant)).
		Group("intent", "source", "state").
		Order("intent", "source", "state")
	if !since.IsZero() {
		q = q.Where("created_at >= ?", dbTime(since))
	}
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, dbErr("suggestion rates", err)
	}
	var out []conversations.SuggestionRate
	var edits int64
	for _, r := range rows {
		in := conversations.Intent(r.Intent)
		if len(out) == 0 || out[len(out)-1].Intent != in || out[len(out)-1].Source != r.Source {
			edits = 0
			out = append(out, conversations.SuggestionRate{Intent: in, Source: r.Source})
		}
		rt := &out[len(out)-1]
		rt.Offered += r.N
		switch conversations.SuggestionState(r.State) {
		case conversations.SuggestionUsed:
			rt.Used += r.N
		case conversations.SuggestionEdited:
			rt.Edited += r.N
			edits += r.Edits
			rt.MeanEditDistance = float64(edits) / float64(rt.Edited)
		case conversations.SuggestionDismissed:
			rt.Dismissed += r.N
		}
	}
	return out, nil
}

// editDistance is the Levenshtein distance between a and b in runes: how
// many characters a sender inserted, deleted or replaced.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
