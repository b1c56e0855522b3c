package conversations

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// suggestBudget bounds the job lookup and the Suggester together, so a
// stuck model or CRM costs the thread screen at most this long.
// suggest.Chain gives its primary 1.5 s and then asks its fallback, so the
// budget leaves room for both.
const suggestBudget = 3 * time.Second

// suggestContext is how many of a thread's newest messages a Suggester sees.
// The newest inbound message is looked for among them too: once staff have
// written this much since the customer last did, the conversation has moved
// on and there is nothing left to suggest a reply to.
const suggestContext = 20

// Suggestions returns the replies offered to v for the newest customer
// message in a thread v may see: two or three, made by Config.Suggester from
// the thread's recent messages, the context of its first linked job and v's
// own staff record (their name signs replies).
//
// Suggestions are made once per viewer and customer message and stored:
// later calls, from any of v's devices, return the same ones (less those v
// used, edited or dismissed) without asking the Suggester again. When the
// customer writes again, the next call answers the new message. A thread
// with no customer message among its newest messages, or a customer who
// texted STOP, gets an empty list.
//
// An internal thread, or a customer thread with no phone number, is
// ErrInvalid (suggested replies go by SMS), as is a Service without a
// Suggester. A Suggester that fails, answers out of contract or takes longer
// than the Service's budget is ErrUnavailable and nothing is stored; the
// caller's own cancellation or deadline is returned as ctx's error.
func (s *App) Suggestions(ctx context.Context, v Viewer, thread ThreadID) (_ []Suggestion, err error) {
	ctx, span := s.tel.start(ctx, "conversations.Suggestions", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if s.suggest == nil {
		return nil, Invalid("config.suggester", "the Service has no Suggester (suggest/rules is the offline default)")
	}
	t, err := s.visibleThread(ctx, s.store, v, thread)
	if err != nil {
		return nil, err
	}
	if t.Kind != ThreadCustomer {
		return nil, Invalid("thread", "suggestions answer customers, and this is an internal thread")
	}
	if t.Contact.Phone == "" {
		return nil, Invalid("thread", "suggested replies go by SMS, and this customer has no phone number")
	}
	page, err := s.store.History(ctx, v.Tenant, t.ID, HistoryQuery{Limit: suggestContext})
	if err != nil {
		return nil, err
	}
	in, ok := newestInbound(page.Messages)
	if !ok {
		return []Suggestion{}, nil
	}
	// No reply could be sent to a customer who opted out, so offering some
	// would only invite an ErrOptedOut.
	if _, out, err := s.store.OptedOut(ctx, v.Tenant, t.Contact.Phone); err != nil {
		return nil, err
	} else if out {
		return []Suggestion{}, nil
	}
	stored, err := s.store.Suggestions(ctx, v.Tenant, v.Staff, in.ID)
	if err != nil {
		return nil, err
	}
	if len(stored) > 0 {
		return stillOffered(firstBatch(stored)), nil
	}

	batch, err := s.makeSuggestions(ctx, v, t, page.Messages, in)
	if err != nil {
		return nil, err
	}
	// Two calls for the same message (two devices opening the thread at
	// once) can both get here. Both batches may end up stored, or, with a
	// store that refuses the second, the second is ErrConflict; either way
	// the answer is re-read from the store and firstBatch picks the same
	// batch for every reader from then on.
	putErr := s.store.PutSuggestions(ctx, batch)
	if putErr != nil && !errors.Is(putErr, ErrConflict) {
		return nil, putErr
	}
	if stored, err = s.store.Suggestions(ctx, v.Tenant, v.Staff, in.ID); err != nil {
		return nil, err
	}
	if len(stored) == 0 {
		if putErr != nil {
			return nil, putErr
		}
		return nil, fmt.Errorf("conversations: suggestions: stored suggestions for message %s did not read back", in.ID)
	}
	return stillOffered(firstBatch(stored)), nil
}

// makeSuggestions asks the Suggester to answer in, and returns its answer
// checked and stamped for v, ready to store.
func (s *core) makeSuggestions(ctx context.Context, v Viewer, t Thread, newestFirst []Message, in Message) ([]Suggestion, error) {
	author, err := s.store.GetStaff(ctx, v.Tenant, v.Staff)
	if err != nil {
		if !isNotFound(err) {
			return nil, err
		}
		// The host may not have synced this staff member yet; their
		// suggestions are merely unsigned.
		author = Staff{Tenant: v.Tenant, ID: v.Staff, Role: v.Role}
	}
	msgs := slices.Clone(newestFirst)
	slices.Reverse(msgs)
	req := SuggestRequest{Thread: t, Messages: msgs, Viewer: v, Author: author, Now: s.now()}

	bctx, cancel := context.WithTimeout(ctx, suggestBudget)
	defer cancel()
	if req.Job = s.jobContext(bctx, t); req.Job != nil {
		req.Business = req.Job.Business
	}
	asked := time.Now()
	ss, err := s.ask(ctx, bctx, req)
	if err == nil {
		if cerr := CheckSuggestions(ss); cerr != nil {
			err = &suggesterError{reason: "answered out of contract", cause: cerr}
		}
	}
	s.tel.suggested(ctx, asked, ss, err)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("conversations: suggestions: %w", ctx.Err())
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, "conversations: no suggestions",
			slog.String("tenant", string(v.Tenant)), slog.String("thread", string(t.ID)),
			slog.String("message", string(in.ID)), ErrorAttr(err))
		return nil, err
	}

	now := s.now()
	out := make([]Suggestion, len(ss))
	for i, sg := range ss {
		// One CreatedAt for the whole batch: firstBatch tells batches apart by it.
		out[i] = Suggestion{
			ID: NewID[SuggestionID](), Tenant: v.Tenant, Thread: t.ID, ForMessage: in.ID, Viewer: v.Staff,
			Text: strings.TrimSpace(sg.Text), Intent: sg.Intent, Confidence: sg.Confidence,
			Urgent: sg.Urgent, Source: sg.Source, Language: sg.Language, State: SuggestionOffered, CreatedAt: now,
		}
	}
	return out, nil
}

// ask calls the Suggester under bctx. It waits for no longer than bctx
// allows even when the Suggester ignores its context: the Suggester then
// finishes on its own and its late answer is dropped.
func (s *core) ask(ctx, bctx context.Context, req SuggestRequest) ([]Suggestion, error) {
	type answer struct {
		ss  []Suggestion
		err error
	}
	done := make(chan answer, 1)
	go func() {
		ss, err := s.tel.suggest(bctx, s.suggest, req)
		done <- answer{ss, err}
	}()
	select {
	case a := <-done:
		if a.err != nil {
			return nil, &suggesterError{reason: "failed", cause: a.err}
		}
		return a.ss, nil
	case <-bctx.Done():
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &suggesterError{reason: "took longer than " + suggestBudget.String(), cause: bctx.Err()}
	}
}

// jobContext reads the context of the thread's first linked job. Replies
// without it are still worth offering, so a host without Jobs, an unknown
// job or a failing CRM means no job context rather than an error.
func (s *core) jobContext(ctx context.Context, t Thread) *JobContext {
	if s.jobs == nil || len(t.Jobs) == 0 {
		return nil
	}
	jc, err := s.jobs.Job(ctx, t.Tenant, t.Jobs[0])
	if err != nil {
		if !isNotFound(err) {
			s.log.LogAttrs(ctx, slog.LevelWarn, "conversations: suggestions without the job's context",
				slog.String("tenant", string(t.Tenant)), slog.String("job", string(t.Jobs[0])), ErrorAttr(err))
		}
		return nil
	}
	return &jc
}

// suggesterError is ErrUnavailable for a Suggester that failed, gave up or
// answered out of contract. It unwraps to ErrUnavailable alone: the caller's
// request was fine, so it must not read as ErrInvalid even when the
// Suggester's own error wraps that. The cause is in the message and the log.
type suggesterError struct {
	reason string
	cause  error
}

func (e *suggesterError) Error() string {
	msg := "conversations: suggestions: the suggester " + e.reason
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}
func (e *suggesterError) Unwrap() error { return ErrUnavailable }

// newestInbound returns the newest inbound message of a page that is
// newest first.
func newestInbound(newestFirst []Message) (Message, bool) {
	for _, m := range newestFirst {
		if m.Direction == DirectionInbound {
			return m, true
		}
	}
	return Message{}, false
}

// firstBatch picks, out of everything stored for one viewer and message,
// the one batch every reader agrees on: the batch with the earliest
// CreatedAt (makeSuggestions stamps one per batch), in id order, which is
// the order offered because ids are time-ordered and stamped in order.
// Should two batches share a CreatedAt, their texts are merged without
// repeats and cut to MaxSuggestions, which every reader does alike.
func firstBatch(stored []Suggestion) []Suggestion {
	first := slices.MinFunc(stored, func(a, b Suggestion) int { return a.CreatedAt.Compare(b.CreatedAt) }).CreatedAt
	var batch []Suggestion
	for _, sg := range stored {
		if sg.CreatedAt.Equal(first) {
			batch = append(batch, sg)
		}
	}
	slices.SortFunc(batch, func(a, b Suggestion) int { return cmp.Compare(a.ID, b.ID) })
	out := make([]Suggestion, 0, MaxSuggestions)
	seen := map[string]bool{}
	for _, sg := range batch {
		if len(out) == MaxSuggestions {
			break
		}
		if key := FoldSuggestion(sg.Text); !seen[key] {
			seen[key] = true
			out = append(out, sg)
		}
	}
	return out
}

// stillOffered drops the suggestions v already used, edited or dismissed.
func stillOffered(ss []Suggestion) []Suggestion {
	out := []Suggestion{}
	for _, sg := range ss {
		if sg.State == SuggestionOffered {
			out = append(out, sg)
		}
	}
	return out
}

// UseSuggestion is the input of UseSuggestion.
type UseSuggestion struct {
	// Body is the text to send: "" or the suggestion's own text sends it as
	// offered (SuggestionUsed); anything else is the viewer's edit of it
	// (SuggestionEdited).
	Body string
	// ClientID is the device's idempotency key, required: a repeat of the
	// call sends nothing and returns the first message.
	ClientID string
}

// UseSuggestion sends one of v's suggestions to the customer, as offered or
// as edited, through SendSMS (queued, delivered by the Outbox, with every
// check SendSMS makes), and records what v did with it. A repeat with the
// same ClientID and body returns the first message and sends nothing.
//
// Another viewer's suggestion (or another business's) is ErrNotFound. A
// suggestion already dismissed, or used with another ClientID, is
// ErrConflict; so is one whose customer message is no longer the newest
// inbound message of its thread, since it would answer an old question (ask
// Suggestions for new ones).
func (s *App) UseSuggestion(ctx context.Context, v Viewer, id SuggestionID, in UseSuggestion) (_ Message, err error) {
	ctx, span := s.tel.start(ctx, "conversations.UseSuggestion", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := v.Validate(); err != nil {
		return Message{}, err
	}
	if err := checkID("suggestion", id); err != nil {
		return Message{}, err
	}
	if err := checkOptionalID("client_id", in.ClientID); err != nil {
		return Message{}, err
	}
	if err := CheckText("body", in.Body, MaxBodyRunes); err != nil {
		return Message{}, err
	}
	switch {
	case in.ClientID == "":
		// Generating one here would make every retry a second SMS.
		return Message{}, Invalid("client_id", "required: it is what makes a repeated use send one SMS")
	}
	sg, err := s.store.GetSuggestion(ctx, v.Tenant, v.Staff, id)
	if err != nil {
		return Message{}, err
	}
	body, state := sg.Text, SuggestionUsed
	if in.Body != "" && in.Body != sg.Text {
		body, state = in.Body, SuggestionEdited
	}

	// A repeat (a retry after a lost answer, or after a crash between the
	// send and the bookkeeping) finds its message and only finishes the
	// bookkeeping, so a retry of an accepted send never turns into an error
	// because the customer wrote again meanwhile.
	m, err := s.store.MessageByClientID(ctx, v.Tenant, v.Staff, in.ClientID)
	switch {
	case err == nil:
		if m.Thread != sg.Thread || m.Body != body {
			return Message{}, &conflictError{what: "client id already used for a different message"}
		}
		return s.recordUse(ctx, v, sg, state, m)
	case !isNotFound(err):
		return Message{}, err
	}

	if sg.State != SuggestionOffered {
		return Message{}, &conflictError{what: "the suggestion is already " + string(sg.State)}
	}
	// Visibility first, so a viewer who lost the thread learns nothing of
	// its newer messages from the staleness check.
	if _, err := s.visibleThread(ctx, s.store, v, sg.Thread); err != nil {
		return Message{}, err
	}
	if err := s.checkCurrent(ctx, sg); err != nil {
		return Message{}, err
	}
	m, err = s.SendSMS(ctx, v, SendSMS{Thread: sg.Thread, Body: body, ClientID: in.ClientID})
	if err != nil {
		return Message{}, err
	}
	return s.recordUse(ctx, v, sg, state, m)
}

// recordUse records that sg was sent as m. A store failure is returned so
// the device retries (the retry finds m and lands here again). A conflict
// means another device dismissed or used the suggestion at the same moment:
// m is accepted all the same, and reporting the send as failed would invite
// the sender to send it twice, so it is logged instead.
func (s *core) recordUse(ctx context.Context, v Viewer, sg Suggestion, state SuggestionState, m Message) (Message, error) {
	if sg.State == state && sg.Sent == m.ID {
		return m, nil
	}
	if _, err := s.store.SetSuggestionState(ctx, v.Tenant, v.Staff, sg.ID, state, m.ID); err != nil {
		if !errors.Is(err, ErrConflict) {
			return Message{}, err
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, "conversations: suggestion sent, but its state changed meanwhile",
			slog.String("tenant", string(v.Tenant)), slog.String("suggestion", string(sg.ID)),
			slog.String("message", string(m.ID)), ErrorAttr(err))
	}
	return m, nil
}

// checkCurrent refuses a suggestion whose customer message is no longer the
// newest inbound message of its thread: sent now, it would answer an old
// question. It pages back from the newest message to the first inbound one.
func (s *core) checkCurrent(ctx context.Context, sg Suggestion) error {
	q := HistoryQuery{Limit: suggestContext}
	for {
		page, err := s.store.History(ctx, sg.Tenant, sg.Thread, q)
		if err != nil {
			return err
		}
		if in, ok := newestInbound(page.Messages); ok {
			if in.ID == sg.ForMessage {
				return nil
			}
			break
		}
		if page.NextBefore == 0 {
			break
		}
		q.Before = page.NextBefore
	}
	return &conflictError{what: "the customer has written since this suggestion was made: ask for new suggestions"}
}

// DismissSuggestion records that v does not want one of their suggestions:
// Suggestions no longer offers it. Dismissing it again is harmless; a
// suggestion already used is ErrConflict, and another viewer's is
// ErrNotFound.
func (s *App) DismissSuggestion(ctx context.Context, v Viewer, id SuggestionID) (err error) {
	ctx, span := s.tel.start(ctx, "conversations.DismissSuggestion", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := v.Validate(); err != nil {
		return err
	}
	if err := checkID("suggestion", id); err != nil {
		return err
	}
	_, err = s.store.SetSuggestionState(ctx, v.Tenant, v.Staff, id, SuggestionDismissed, "")
	return err
}
