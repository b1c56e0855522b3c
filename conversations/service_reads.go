package conversations

import (
	"context"

	"go.opentelemetry.io/otel/trace"
)

// MarkRead moves v's read horizon in a thread to seq (0 means the newest
// message). The horizon never moves backwards and never passes the newest
// message. It returns the horizon after the call and tells v's other devices,
// so their badges agree.
func (s *App) MarkRead(ctx context.Context, v Viewer, id ThreadID, seq int64) (_ int64, err error) {
	ctx, span := s.tel.start(ctx, "conversations.MarkRead", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if seq < 0 {
		return 0, Invalid("seq", "negative")
	}
	if err := threadRef(v, id); err != nil {
		return 0, err
	}
	var horizon int64
	err = s.store.Tx(ctx, func(tx Store) error {
		t, err := s.visibleThread(ctx, tx, v, id)
		if err != nil {
			return err
		}
		if seq == 0 {
			seq = t.LastSeq
		}
		horizon, err = tx.MarkRead(ctx, v.Tenant, v.Staff, id, seq)
		return err
	})
	if err != nil {
		return 0, err
	}
	s.notifyRead(ctx, v, id, horizon)
	return horizon, nil
}

// Badge returns v's unread message count over exactly the threads v may see
// (archived threads excluded).
func (s *App) Badge(ctx context.Context, v Viewer) (int64, error) {
	ctx, span := s.tel.start(ctx, "conversations.Badge", trace.SpanKindInternal)
	defer span.End()
	if err := v.Validate(); err != nil {
		return 0, err
	}
	return s.store.Badge(ctx, s.policy.Scope(v))
}
