package conversations

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// SendInternal is the input of SendInternal.
type SendInternal struct {
	Thread   ThreadID
	Body     string
	Media    []Media
	Job      JobID
	ClientID string // the device's idempotency key: a repeat returns the first message
	Source   Source // "" means SourceMobile
}

// SendInternal posts a staff message to an internal thread v takes part in.
// In-app messages are delivered when stored. A repeat with the same ClientID
// and content returns the first message; the same ClientID with other
// content is ErrConflict.
func (s *App) SendInternal(ctx context.Context, v Viewer, in SendInternal) (_ Message, err error) {
	ctx, span := s.tel.start(ctx, "conversations.SendInternal", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := v.Validate(); err != nil {
		return Message{}, err
	}
	if err := s.checkContent(in.Body, in.Media, false); err != nil {
		return Message{}, err
	}
	if in.Source == "" {
		in.Source = SourceMobile
	}
	if !in.Source.Valid() {
		return Message{}, Invalid("source", "unknown source")
	}
	if err := checkRefs(in.Thread, in.ClientID, in.Job, ""); err != nil {
		return Message{}, err
	}
	now := s.now()
	m := Message{
		ID: NewID[MessageID](), Tenant: v.Tenant, Thread: in.Thread, Kind: KindInternal,
		Direction: DirectionOutbound, Channel: ChannelInApp, AuthorType: AuthorStaff, Author: v.Staff,
		Body: in.Body, Media: in.Media, Job: in.Job, Source: in.Source, ClientID: in.ClientID,
		CreatedAt: now, Status: StatusDelivered, SentAt: now, DeliveredAt: now,
	}
	var created bool
	err = s.store.Tx(ctx, func(tx Store) error {
		t, err := s.visibleThread(ctx, tx, v, in.Thread)
		if err != nil {
			return err
		}
		if t.Kind != ThreadInternal {
			return Invalid("thread", "not an internal thread")
		}
		if !t.HasParticipant(v.Staff) {
			return errForbidden("thread")
		}
		m, created, err = tx.AppendMessage(ctx, m)
		if err != nil {
			return err
		}
		if !created {
			return sameContent(m, in.Thread, in.Body, in.Media)
		}
		_, err = tx.MarkRead(ctx, v.Tenant, v.Staff, m.Thread, m.Seq)
		return err
	})
	if err != nil {
		return Message{}, err
	}
	if created {
		s.notifyMessage(ctx, m)
	}
	return m, nil
}

// sameContent reports ErrConflict when an idempotent repeat carries other
// content than the message its ClientID first created.
func sameContent(m Message, thread ThreadID, body string, media []Media) error {
	if m.Thread != thread || m.Body != body || !slices.Equal(m.Media, media) {
		return &conflictError{what: "client id already used for a different message"}
	}
	return nil
}

type conflictError struct{ what string }

func (e *conflictError) Error() string { return "conversations: " + e.what }
func (e *conflictError) Unwrap() error { return ErrConflict }

// Receive files a customer's inbound message in the customer thread for
// (tenant, business number, customer address), creating the thread on first
// contact. An empty in.Tenant means the business the number is provisioned
// to, found in the same step that files the message (a webhook knows only
// the number); a number no business has is then ErrNotFound. A repeat of the same provider id returns the first message with
// created=false and changes nothing. An SMS that is exactly an opt-out
// keyword (STOP, ...; see OptKeyword) records an opt-out; START or UNSTOP
// records an opt-in, and so does YES from a number that is opted out.
func (s *Hooks) Receive(ctx context.Context, in InboundMessage) (msg Message, created bool, err error) {
	ctx, span := s.tel.start(ctx, "conversations.Receive", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	// The customer's text is cleaned, not refused: see CleanText.
	in.Body = CleanText(in.Body)
	if err := s.validateInbound(in); err != nil {
		return Message{}, false, err
	}
	now := s.now()
	contact := Contact{Phone: in.From}
	if in.Channel == ChannelEmail {
		contact = Contact{Email: in.From}
	}
	m := Message{
		ID: NewID[MessageID](), Tenant: in.Tenant, Kind: KindCustomerSMS, Direction: DirectionInbound,
		Channel: in.Channel, AuthorType: AuthorCustomer, Body: in.Body, Media: in.Media,
		Source: SourceProvider, From: in.From, To: in.BusinessNumber, CreatedAt: now,
		Status: StatusReceived, ProviderID: in.ProviderID,
	}
	thread := Thread{
		ID: NewID[ThreadID](), Tenant: in.Tenant, Kind: ThreadCustomer, BusinessNumber: in.BusinessNumber,
		Contact: contact, CreatedAt: now, LastMessageAt: now,
	}
	kw, isKeyword := OptKeyword(in.Body)
	isKeyword = isKeyword && in.Channel == ChannelSMS
	optRecorded := false // the ledger took the keyword (YES may not count)
	// AppendInbound checks the number, finds a repeat by the provider id,
	// routes (creating the thread on first contact) and stores, in one step.
	file := func(st Store) error {
		optRecorded = false // a Store whose Tx runs fn again starts over
		t, stored, ok, err := s.appendInbound(ctx, st, thread, m, s.owes != nil)
		switch {
		case isNotFound(err) && in.Tenant == "":
			return fmt.Errorf("conversations: no business has the number %s: %w", in.BusinessNumber, ErrNotFound)
		case isNotFound(err):
			return Invalid("business_number", "not provisioned to this business")
		}
		if err != nil {
			return err
		}
		if m, created = stored, ok; !created {
			return nil
		}
		if err := s.recordTimeline(ctx, st, t, m); err != nil {
			return err
		}
		if !isKeyword {
			return nil
		}
		if kw.OnlyIfOptedOut {
			if _, out, err := st.OptedOut(ctx, m.Tenant, in.From); err != nil || !out {
				return err
			}
		}
		optRecorded = true
		return st.RecordOptOut(ctx, OptOut{
			Tenant: m.Tenant, Address: in.From, BusinessNumber: in.BusinessNumber,
			Keyword: kw.Keyword, OptedOut: kw.OptOut, At: now,
		})
	}
	// The fan-out is owed with the message (a FanOutStore: the mark goes in
	// with it, and the fan-out loop tells everyone after the commit), or,
	// with an Outbox, a job committed with the message. Either way the
	// webhook answers after the commit, and a crash before anyone was told
	// leaves the mark or the job to tell them.
	queueNotify := s.notifier != nil && s.outbox != nil && s.owes == nil
	switch {
	case s.timeline == nil && !isKeyword && !queueNotify:
		// Nothing else is written with the message: its one step is enough.
		err = file(s.store)
	case queueNotify:
		err = s.store.Tx(ctx, func(st Store) error {
			if err := file(st); err != nil || !created {
				return err
			}
			return s.outbox.Enqueue(ctx, st, Delivery{Kind: DeliverNotify, Tenant: m.Tenant, Message: m.ID, Channel: m.Channel})
		})
	default:
		err = s.store.Tx(ctx, file)
	}
	if err != nil {
		return Message{}, false, err
	}
	if created {
		s.tel.received(ctx, m, optRecorded, kw.Keyword, kw.OptOut)
		switch {
		case s.owes != nil:
			s.queueFanOut(m)
		case !queueNotify:
			s.notifyMessage(ctx, m)
		}
	}
	return m, created, nil
}

func (s *core) validateInbound(in InboundMessage) error {
	if err := in.check(); err != nil {
		return err
	}
	switch {
	case in.Channel != ChannelSMS && in.Channel != ChannelEmail:
		return Invalid("channel", "inbound messages come by sms or email")
	case in.ProviderID == "":
		return Invalid("provider_id", "empty: it is what makes a repeated webhook harmless")
	case in.BusinessNumber == "":
		return Invalid("business_number", "empty")
	case in.Channel == ChannelEmail && !validEmail(in.From):
		return Invalid("from", "not an email address")
	case in.Channel == ChannelSMS && !ValidE164(in.From):
		return Invalid("from", "not an E.164 phone number")
	case in.From == "":
		return Invalid("from", "empty")
	}
	// A customer can send an empty SMS; it is kept like any other, since a
	// refused webhook would be lost for good.
	return s.checkContent(in.Body, in.Media, true)
}

// ApplyStatus applies a provider's delivery report under the forward-only
// rule (see Merge): a late or repeated report changes nothing. The sender is
// told when the status changed.
func (s *Hooks) ApplyStatus(ctx context.Context, u StatusUpdate) (_ Message, err error) {
	ctx, span := s.tel.start(ctx, "conversations.ApplyStatus", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	u.ErrorReason = cleanReason(u.ErrorReason)
	if err := u.check(); err != nil {
		return Message{}, err
	}
	switch {
	case u.Message == "" && (u.ProviderID == "" || u.Channel == ""):
		return Message{}, Invalid("message", "name the message by id, or by channel and provider id")
	case !u.Status.Valid() || u.Status == StatusReceived:
		return Message{}, Invalid("status", "unknown delivery status")
	}
	if u.At.IsZero() {
		u.At = s.now()
	}
	u.At = u.At.UTC().Truncate(time.Microsecond)
	return s.applyStatus(ctx, u)
}

// OptedOut reports whether a customer number has opted out of a business's
// SMS, with the ledger entry that made it so.
func (s *Sync) OptedOut(ctx context.Context, tenant TenantID, number string) (OptOut, bool, error) {
	ctx, span := s.tel.start(ctx, "conversations.OptedOut", trace.SpanKindInternal)
	defer span.End()
	if err := checkID("tenant", tenant); err != nil {
		return OptOut{}, false, err
	}
	if !ValidE164(number) {
		return OptOut{}, false, Invalid("number", "not an E.164 phone number")
	}
	return s.store.OptedOut(ctx, tenant, number)
}
