package conversations

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// SendSMS is the input of SendSMS.
type SendSMS struct {
	Thread   ThreadID // an existing customer thread the viewer may see, or
	To       string   // a customer's E.164 number: the thread with them, started if new
	Body     string
	Media    []Media
	Job      JobID
	ClientID string  // the device's idempotency key: a repeat returns the first message
	Draft    DraftID // the draft being sent, deleted in the same transaction
	Source   Source  // "" means SourceMobile
}

// SendSMS accepts a text to a customer from the business's number. The
// message is stored as queued and its delivery enqueued in one transaction;
// the Outbox's worker delivers it (see Deliver) and its status moves on as
// the provider reports. A repeat with the same ClientID and content returns
// the first message and sends nothing; other content is ErrConflict. A
// customer who texted STOP is ErrOptedOut, before anything is stored.
//
// A technician may text a thread they can see, or a number nobody has a
// thread with yet; texting into someone else's thread would reveal it, so it
// is ErrForbidden.
func (s *App) SendSMS(ctx context.Context, v Viewer, in SendSMS) (_ Message, err error) {
	ctx, span := s.tel.start(ctx, "conversations.SendSMS", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := v.Validate(); err != nil {
		return Message{}, err
	}
	if s.outbox == nil {
		return Message{}, Invalid("config.outbox", "the Store carries no outbox (a QueueStore, such as outbox.Outbox.Store): it cannot send SMS")
	}
	if err := s.checkContent(in.Body, in.Media, false); err != nil {
		return Message{}, err
	}
	if in.Source == "" {
		in.Source = SourceMobile
	}
	switch {
	case !in.Source.Valid():
		return Message{}, Invalid("source", "unknown source")
	case (in.Thread == "") == (in.To == ""):
		return Message{}, Invalid("recipient", "name a thread or a number, one of the two")
	case in.To != "" && !ValidE164(in.To):
		return Message{}, Invalid("to", "not an E.164 phone number")
	}
	if err := in.checkRefs(); err != nil {
		return Message{}, err
	}
	// A repeat is answered before the opt-out check and the thread look-up:
	// a device retrying a send the business accepted gets that message back,
	// even if the customer has texted STOP since.
	if in.ClientID != "" {
		m, err := s.store.MessageByClientID(ctx, v.Tenant, v.Staff, in.ClientID)
		if err == nil {
			return m, sameRecipient(m, in)
		}
		if !isNotFound(err) {
			return Message{}, err
		}
	}
	now := s.now()
	m := Message{
		ID: NewID[MessageID](), Tenant: v.Tenant, Kind: KindCustomerSMS, Direction: DirectionOutbound,
		Channel: ChannelSMS, AuthorType: AuthorStaff, Author: v.Staff, Body: in.Body, Media: in.Media,
		Job: in.Job, Source: in.Source, ClientID: in.ClientID, CreatedAt: now, Status: StatusQueued,
	}
	var created bool
	err = s.store.Tx(ctx, func(tx Store) error {
		t, err := s.smsThread(ctx, tx, v, in, now)
		if err != nil {
			return err
		}
		if entry, out, err := tx.OptedOut(ctx, v.Tenant, t.Contact.Phone); err != nil {
			return err
		} else if out {
			return &OptOutError{Number: t.Contact.Phone, Entry: entry}
		}
		m.Thread, m.From, m.To = t.ID, t.BusinessNumber, t.Contact.Phone
		if m, created, err = s.appendMessage(ctx, tx, t, m); err != nil {
			return err
		}
		if !created {
			return sameRecipient(m, in)
		}
		if _, err := tx.MarkRead(ctx, v.Tenant, v.Staff, m.Thread, m.Seq); err != nil {
			return err
		}
		if in.Draft != "" {
			if err := tx.DeleteDraft(ctx, v.Tenant, v.Staff, in.Draft); err != nil && !isNotFound(err) {
				return err
			}
		}
		return s.outbox.Enqueue(ctx, tx, Delivery{Tenant: m.Tenant, Message: m.ID, Channel: m.Channel, Automated: m.Kind == KindWorkflow})
	})
	if err != nil {
		return Message{}, err
	}
	if created {
		s.notifyMessage(ctx, m)
	}
	return m, nil
}

// sameRecipient checks an idempotent repeat of SendSMS against the message
// its ClientID first created.
func sameRecipient(m Message, in SendSMS) error {
	if (in.Thread != "" && m.Thread != in.Thread) || (in.To != "" && m.To != in.To) ||
		m.Body != in.Body || !slices.Equal(m.Media, in.Media) {
		return &conflictError{what: "client id already used for a different message"}
	}
	return nil
}

// smsThread resolves the customer thread a SendSMS goes to.
func (s *core) smsThread(ctx context.Context, tx Store, v Viewer, in SendSMS, now time.Time) (Thread, error) {
	if in.Thread != "" {
		t, err := s.visibleThread(ctx, tx, v, in.Thread)
		if err != nil {
			return Thread{}, err
		}
		if t.Kind != ThreadCustomer || t.Contact.Phone == "" {
			return Thread{}, Invalid("thread", "not a customer SMS thread")
		}
		return t, nil
	}
	num, err := s.defaultNumber(ctx, tx, v.Tenant, ChannelSMS)
	if err != nil {
		return Thread{}, err
	}
	t, created, err := tx.CustomerThread(ctx, Thread{
		ID: NewID[ThreadID](), Tenant: v.Tenant, Kind: ThreadCustomer, BusinessNumber: num.Number,
		Contact: Contact{Phone: in.To}, CreatedAt: now, CreatedBy: v.Staff, LastMessageAt: now,
	})
	if err != nil {
		return Thread{}, err
	}
	if t, err = tx.GetThread(ctx, v.Tenant, t.ID); err != nil {
		return Thread{}, err
	}
	if s.policy.Scope(v).Allows(t) {
		return t, nil
	}
	if !created {
		return Thread{}, errForbidden("thread")
	}
	// The sender started this thread: they take part in it.
	if err := tx.AddParticipants(ctx, v.Tenant, t.ID, v.Staff); err != nil {
		return Thread{}, err
	}
	return tx.GetThread(ctx, v.Tenant, t.ID)
}

// OptOutError is ErrOptedOut with the ledger entry behind it, so the sender
// can be told when and how the customer opted out.
type OptOutError struct {
	Number string
	Entry  OptOut
}

func (e *OptOutError) Error() string {
	switch e.Entry.Keyword {
	case "":
		return "conversations: " + e.Number + " has opted out of SMS from this business"
	case OptOutByCarrier:
		return fmt.Sprintf("conversations: the carrier reports this number (%s) opted out of SMS from this business (since %s); the customer can text START to opt back in",
			e.Number, e.Entry.At.Format("2006-01-02"))
	}
	return fmt.Sprintf("conversations: %s texted %s on %s and has opted out of SMS from this business until they text START",
		e.Number, e.Entry.Keyword, e.Entry.At.Format("2006-01-02"))
}
func (e *OptOutError) Unwrap() error { return ErrOptedOut }
