package conversations

import (
	"context"

	"go.opentelemetry.io/otel/trace"
)

// SaveDraft creates (d.ID empty) or updates one of v's drafts. A draft is
// for an existing thread v may see (d.Thread) or for a new customer number
// (d.To, E.164), not both. On update d.Version must be the version last read,
// else ErrConflict: two devices editing one draft do not silently overwrite
// each other. A draft without a ClientID gets one, so its eventual send is
// idempotent.
func (s *Service) SaveDraft(ctx context.Context, v Viewer, d Draft) (_ Draft, err error) {
	ctx, span := s.tel.start(ctx, "conversations.SaveDraft", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := v.Validate(); err != nil {
		return Draft{}, err
	}
	if err := validateBody(d.Body, d.Media, true); err != nil {
		return Draft{}, err
	}
	switch {
	case d.Thread == "" && d.To == "":
		return Draft{}, Invalid("draft", "name a thread or a recipient number")
	case d.Thread != "" && d.To != "":
		return Draft{}, Invalid("draft", "name a thread or a recipient number, not both")
	case d.To != "" && !ValidE164(d.To):
		return Draft{}, Invalid("to", "not an E.164 phone number")
	case len(d.ClientID) > 200:
		return Draft{}, Invalid("client_id", "longer than 200 bytes")
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

// Draft returns one of v's drafts.
func (s *Service) Draft(ctx context.Context, v Viewer, id DraftID) (Draft, error) {
	ctx, span := s.tel.start(ctx, "conversations.Draft", trace.SpanKindInternal)
	defer span.End()
	if err := v.Validate(); err != nil {
		return Draft{}, err
	}
	if id == "" {
		return Draft{}, Invalid("draft", "empty id")
	}
	return s.store.GetDraft(ctx, v.Tenant, v.Staff, id)
}

// Drafts returns v's drafts, most recently updated first.
func (s *Service) Drafts(ctx context.Context, v Viewer) ([]Draft, error) {
	ctx, span := s.tel.start(ctx, "conversations.Drafts", trace.SpanKindInternal)
	defer span.End()
	if err := v.Validate(); err != nil {
		return nil, err
	}
	return s.store.ListDrafts(ctx, v.Tenant, v.Staff)
}

// DeleteDraft deletes one of v's drafts.
func (s *Service) DeleteDraft(ctx context.Context, v Viewer, id DraftID) (err error) {
	ctx, span := s.tel.start(ctx, "conversations.DeleteDraft", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := v.Validate(); err != nil {
		return err
	}
	if id == "" {
		return Invalid("draft", "empty id")
	}
	return s.store.DeleteDraft(ctx, v.Tenant, v.Staff, id)
}
