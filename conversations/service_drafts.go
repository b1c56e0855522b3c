package conversations

import (
	"context"
	"slices"

	"go.opentelemetry.io/otel/trace"
)

// SaveDraft creates (d.ID empty) or updates one of v's drafts. A draft is
// for an existing thread v may see (d.Thread) or for a new customer number
// (d.To, E.164), not both. On update d.Version must be the version last read,
// else ErrConflict: two devices editing one draft do not silently overwrite
// each other. A draft without a ClientID gets one, so its eventual send is
// idempotent.
func (s *App) SaveDraft(ctx context.Context, v Viewer, d Draft) (_ Draft, err error) {
	ctx, span := s.tel.start(ctx, "conversations.SaveDraft", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := v.Validate(); err != nil {
		return Draft{}, err
	}
	if err := s.checkContent(d.Body, d.Media, true); err != nil {
		return Draft{}, err
	}
	switch {
	case d.Thread == "" && d.To == "":
		return Draft{}, Invalid("draft", "name a thread or a recipient number")
	case d.Thread != "" && d.To != "":
		return Draft{}, Invalid("draft", "name a thread or a recipient number, not both")
	case d.To != "" && !ValidE164(d.To):
		return Draft{}, Invalid("to", "not an E.164 phone number")
	}
	if err := checkRefs(d.Thread, d.ClientID, d.Job, ""); err != nil {
		return Draft{}, err
	}
	if err := checkOptionalID("draft", d.ID); err != nil {
		return Draft{}, err
	}
	d.Tenant, d.Author = v.Tenant, v.Staff
	now := s.now()
	d.UpdatedAt = now
	if d.ID == "" {
		d.ID, d.CreatedAt, d.Version = NewID[DraftID](), now, 0
		if d.ClientID == "" {
			d.ClientID = string(NewID[MessageID]())
		}
	}
	var out Draft
	err = s.store.Tx(ctx, func(tx Store) error {
		if d.Thread != "" {
			if _, err := s.visibleThread(ctx, tx, v, d.Thread); err != nil {
				return err
			}
		}
		if d.Version > 0 {
			old, err := tx.GetDraft(ctx, v.Tenant, v.Staff, d.ID)
			if err != nil {
				return err
			}
			d.CreatedAt = old.CreatedAt
			if d.ClientID == "" {
				d.ClientID = old.ClientID
			}
		}
		var err error
		out, err = tx.PutDraft(ctx, d)
		return err
	})
	return out, err
}

// Draft returns one of v's drafts. A draft on a thread v may no longer see
// (unassigned, removed, the job unlinked) is ErrForbidden, like the thread:
// v may still delete it.
func (s *App) Draft(ctx context.Context, v Viewer, id DraftID) (Draft, error) {
	ctx, span := s.tel.start(ctx, "conversations.Draft", trace.SpanKindInternal)
	defer span.End()
	if err := v.Validate(); err != nil {
		return Draft{}, err
	}
	if err := checkID("draft", id); err != nil {
		return Draft{}, err
	}
	d, err := s.store.GetDraft(ctx, v.Tenant, v.Staff, id)
	if err != nil || d.Thread == "" {
		return d, err
	}
	if _, err := s.visibleThread(ctx, s.store, v, d.Thread); err != nil {
		return Draft{}, err
	}
	return d, nil
}

// Drafts returns v's drafts, most recently updated first, leaving out those
// on threads v may no longer see (see Draft).
func (s *App) Drafts(ctx context.Context, v Viewer) ([]Draft, error) {
	ctx, span := s.tel.start(ctx, "conversations.Drafts", trace.SpanKindInternal)
	defer span.End()
	if err := v.Validate(); err != nil {
		return nil, err
	}
	ds, err := s.store.ListDrafts(ctx, v.Tenant, v.Staff)
	if err != nil {
		return nil, err
	}
	var threads []ThreadID
	for _, d := range ds {
		if d.Thread != "" {
			threads = append(threads, d.Thread)
		}
	}
	if len(threads) == 0 {
		return ds, nil
	}
	visible, err := s.fast.VisibleThreads(ctx, s.policy.Scope(v), threads)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(ds, func(d Draft) bool {
		return d.Thread != "" && !slices.Contains(visible, d.Thread)
	}), nil
}

// DeleteDraft deletes one of v's drafts.
func (s *App) DeleteDraft(ctx context.Context, v Viewer, id DraftID) (err error) {
	ctx, span := s.tel.start(ctx, "conversations.DeleteDraft", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := v.Validate(); err != nil {
		return err
	}
	if err := checkID("draft", id); err != nil {
		return err
	}
	return s.store.DeleteDraft(ctx, v.Tenant, v.Staff, id)
}
