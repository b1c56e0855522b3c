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

type draftRow struct {
	bun.BaseModel `bun:"table:drafts"`

	TenantID  string    `bun:"tenant_id,pk"`
	ID        string    `bun:"id,pk"`
	AuthorID  string    `bun:"author_id"`
	ThreadID  string    `bun:"thread_id"`
	To        string    `bun:"to_address"`
	JobID     string    `bun:"job_id"`
	Body      string    `bun:"body"`
	Media     string    `bun:"media"`
	ClientID  string    `bun:"client_id"`
	Version   int64     `bun:"version"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

func (r draftRow) domain() (conversations.Draft, error) {
	media, err := parseMedia(r.Media)
	if err != nil {
		return conversations.Draft{}, err
	}
	return conversations.Draft{
		ID: conversations.DraftID(r.ID), Tenant: conversations.TenantID(r.TenantID),
		Author: conversations.StaffID(r.AuthorID), Thread: conversations.ThreadID(r.ThreadID),
		To: r.To, Job: conversations.JobID(r.JobID), Body: r.Body, Media: media,
		ClientID: r.ClientID, Version: r.Version,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}, nil
}

// PutDraft creates d (Version 0; a missing ID is generated) or updates it
// (Version must be the stored one, else ErrConflict), and returns the stored
// draft with its new Version. A draft is its author's: another author's id is
// ErrNotFound. Two drafts of one author sharing a ClientID is ErrConflict.
func (s *DB) PutDraft(ctx context.Context, d conversations.Draft) (conversations.Draft, error) {
	const op = "put draft"
	switch {
	case d.Tenant == "":
		return conversations.Draft{}, invalid(op, "draft.tenant", "empty")
	case d.Author == "":
		return conversations.Draft{}, invalid(op, "draft.author", "empty")
	case d.Version < 0:
		return conversations.Draft{}, invalid(op, "draft.version", "negative")
	case d.Version > 0 && d.ID == "":
		return conversations.Draft{}, invalid(op, "draft.id", "empty")
	}
	media, err := mediaJSON(d.Media)
	if err != nil {
		return conversations.Draft{}, err
	}
	now := dbTime(s.now())
	row := draftRow{
		TenantID: string(d.Tenant), ID: string(d.ID), AuthorID: string(d.Author),
		ThreadID: string(d.Thread), To: d.To, JobID: string(d.Job), Body: d.Body, Media: media,
		ClientID: d.ClientID, Version: d.Version + 1, CreatedAt: now, UpdatedAt: now,
	}
	if d.Version == 0 {
		if row.ID == "" {
			row.ID = string(conversations.NewID[conversations.DraftID]())
		}
		if _, err := s.idb.NewInsert().Model(&row).Exec(ctx); err != nil {
			return conversations.Draft{}, dbErr(op, err)
		}
		return row.domain()
	}
	err = s.atomic(ctx, func(tx *DB) error {
		res, err := tx.idb.NewUpdate().Model(&row).
			Column("thread_id", "to_address", "job_id", "body", "media", "client_id", "version", "updated_at").
			Where("tenant_id = ?", row.TenantID).
			Where("id = ?", row.ID).
			Where("author_id = ?", row.AuthorID).
			Where("version = ?", d.Version).
			Returning("created_at").
			Exec(ctx)
		if err != nil {
			return dbErr(op, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return dbErr(op, err)
		} else if n == 1 {
			return nil
		}
		var stored int64
		err = tx.idb.NewSelect().Model((*draftRow)(nil)).Column("version").
			Where("tenant_id = ?", row.TenantID).
			Where("id = ?", row.ID).
			Where("author_id = ?", row.AuthorID).
			Scan(ctx, &stored)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(op, "draft "+row.ID)
		}
		if err != nil {
			return dbErr(op, err)
		}
		return fmt.Errorf("store: %s: draft %s is at version %d, not %d: %w", op, row.ID, stored, d.Version, conversations.ErrConflict)
	})
	if err != nil {
		return conversations.Draft{}, err
	}
	return row.domain()
}

// GetDraft returns one of the author's drafts.
func (s *DB) GetDraft(ctx context.Context, tenant conversations.TenantID, author conversations.StaffID, id conversations.DraftID) (conversations.Draft, error) {
	var row draftRow
	err := s.idb.NewSelect().Model(&row).
		Where("tenant_id = ?", string(tenant)).
		Where("id = ?", string(id)).
		Where("author_id = ?", string(author)).
		Scan(ctx)
	if err != nil {
		return conversations.Draft{}, dbErr("get draft", err)
	}
	return row.domain()
}

// ListDrafts returns the author's drafts, most recently updated first.
func (s *DB) ListDrafts(ctx context.Context, tenant conversations.TenantID, author conversations.StaffID) ([]conversations.Draft, error) {
	var rows []draftRow
	err := s.idb.NewSelect().Model(&rows).
		Where("tenant_id = ?", string(tenant)).
		Where("author_id = ?", string(author)).
		Order("updated_at DESC", "id DESC").
		Scan(ctx)
	if err != nil {
		return nil, dbErr("list drafts", err)
	}
	out := make([]conversations.Draft, 0, len(rows))
	for _, r := range rows {
		d, err := r.domain()
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// DeleteDraft deletes one of the author's drafts.
func (s *DB) DeleteDraft(ctx context.Context, tenant conversations.TenantID, author conversations.StaffID, id conversations.DraftID) error {
	const op = "delete draft"
	res, err := s.idb.NewDelete().Model((*draftRow)(nil)).
		Where("tenant_id = ?", string(tenant)).
		Where("id = ?", string(id)).
		Where("author_id = ?", string(author)).
		Exec(ctx)
	if err != nil {
		return dbErr(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return dbErr(op, err)
	} else if n == 0 {
		return notFound(op, "draft "+string(id))
	}
	return nil
}
