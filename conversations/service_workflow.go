package conversations

import (
	"context"
	"net/mail"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// WorkflowMessage is an automated message from the host's workflows ("your
// technician is on the way", "your invoice is ready").
type WorkflowMessage struct {
	Tenant  TenantID
	Channel string  // ChannelSMS or ChannelEmail
	Contact Contact // Phone (E.164) for SMS, Email for email; Name and Ref are kept on the thread
	Subject string  // email only, required there
	Body    string
	Job     JobID  // optional: linked to the thread, so the job's assignees see it
	Key     string // the workflow's idempotency key (a run and step): a repeat returns the first message
}

// MaxSubjectBytes bounds an email subject.
const MaxSubjectBytes = 998

// SendWorkflow accepts an automated message to a contact, by SMS from the
// business's default number or by email from its default sender address. It
// is recorded in the contact's customer thread (the SMS thread when the
// contact has a phone number, so history shows one conversation), delivered
// through the durable queue, and waits for the business's quiet hours to end
// (see QuietHours). A contact who opted out is ErrOptedOut.
func (s *Hooks) SendWorkflow(ctx context.Context, in WorkflowMessage) (_ Message, err error) {
	ctx, span := s.tel.start(ctx, "conversations.SendWorkflow", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := s.validateWorkflow(in); err != nil {
		return Message{}, err
	}
	if s.outbox == nil {
		return Message{}, Invalid("config.outbox", "the Store carries no outbox (a QueueStore, such as outbox.Outbox.Store): it cannot send")
	}
	address := in.Contact.Phone
	if in.Channel == ChannelEmail {
		address = in.Contact.Email
	}
	if in.Key != "" {
		m, err := s.store.MessageByClientID(ctx, in.Tenant, "", in.Key)
		if err == nil {
			if m.Body != in.Body || m.To != address || m.Channel != in.Channel {
				return Message{}, &conflictError{what: "workflow key already used for a different message"}
			}
			return m, nil
		}
		if !isNotFound(err) {
			return Message{}, err
		}
	}
	now := s.now()
	m := Message{
		ID: NewID[MessageID](), Tenant: in.Tenant, Kind: KindWorkflow, Direction: DirectionOutbound,
		Channel: in.Channel, AuthorType: AuthorSystem, Body: in.Body, Subject: in.Subject, Job: in.Job,
		Source: SourceWorkflow, ClientID: in.Key, To: address, CreatedAt: now, Status: StatusQueued,
	}
	var created bool
	err = s.store.Tx(ctx, func(tx Store) error {
		if entry, out, err := tx.OptedOut(ctx, in.Tenant, address); err != nil {
			return err
		} else if out {
			return &OptOutError{Number: address, Entry: entry}
		}
		sender, err := s.defaultNumber(ctx, tx, in.Tenant, in.Channel)
		if err != nil {
			return err
		}
		t, err := s.contactThread(ctx, tx, in.Tenant, in.Contact, in.Channel, now)
		if err != nil {
			return err
		}
		if err := s.linkJob(ctx, tx, t, in.Job); err != nil {
			return err
		}
		m.Thread, m.From = t.ID, sender.Number
		if m, created, err = s.appendMessage(ctx, tx, t, m); err != nil || !created {
			return err
		}
		st, err := tx.GetSettings(ctx, in.Tenant)
		if err != nil {
			return err
		}
		d := Delivery{Tenant: m.Tenant, Message: m.ID, Channel: m.Channel, Automated: true}
		if open := st.Quiet.Next(now); open.After(now) {
			d.NotBefore = open
		}
		return s.outbox.Enqueue(ctx, tx, d)
	})
	if err != nil {
		return Message{}, err
	}
	if created {
		s.notifyMessage(ctx, m)
	}
	return m, nil
}

func (s *core) validateWorkflow(in WorkflowMessage) error {
	if err := in.check(); err != nil {
		return err
	}
	switch {
	case in.Channel != ChannelSMS && in.Channel != ChannelEmail:
		return Invalid("channel", "workflow messages go by sms or email")
	case in.Channel == ChannelSMS && !ValidE164(in.Contact.Phone):
		return Invalid("contact.phone", "not an E.164 phone number")
	case in.Channel == ChannelEmail && !validEmail(in.Contact.Email):
		return Invalid("contact.email", "not an email address")
	case in.Contact.Phone != "" && !ValidE164(in.Contact.Phone):
		return Invalid("contact.phone", "not an E.164 phone number")
	case in.Channel == ChannelEmail && in.Subject == "":
		return Invalid("subject", "an email needs a subject")
	case len(in.Subject) > MaxSubjectBytes:
		return Invalid("subject", "longer than 998 bytes")
	}
	return s.checkContent(in.Body, nil, false)
}

func validEmail(s string) bool {
	if CheckLine("", s, MaxAddressRunes) != nil {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// contactThread finds or starts a contact's customer thread: the SMS
// thread (default SMS number, contact phone) when the contact has a phone,
// else the email thread (default sender, contact email).
func (s *core) contactThread(ctx context.Context, tx Store, tenant TenantID, c Contact, channel string, now time.Time) (Thread, error) {
	via := ChannelEmail
	if c.Phone != "" {
		via = ChannelSMS
	}
	num, err := s.defaultNumber(ctx, tx, tenant, via)
	if err != nil && via == ChannelSMS && channel == ChannelEmail && isNotFound(err) {
		via = ChannelEmail // an email-only business can still email a contact who has a phone
		num, err = s.defaultNumber(ctx, tx, tenant, via)
	}
	if err != nil {
		return Thread{}, err
	}
	key := c
	if via == ChannelEmail {
		key.Phone = ""
	}
	t, _, err := tx.CustomerThread(ctx, Thread{
		ID: NewID[ThreadID](), Tenant: tenant, Kind: ThreadCustomer, BusinessNumber: num.Number,
		Contact: key, CreatedAt: now, LastMessageAt: now,
	})
	if err != nil {
		return Thread{}, err
	}
	return tx.GetThread(ctx, tenant, t.ID)
}

// linkJob links job to t inside tx when it is not linked yet.
func (s *core) linkJob(ctx context.Context, tx Store, t Thread, job JobID) error {
	if job == "" {
		return nil
	}
	for _, j := range t.Jobs {
		if j == job {
			return nil
		}
	}
	return tx.LinkJob(ctx, t.Tenant, t.ID, job)
}

// Escalation is an AI receptionist handing a customer to staff.
type Escalation struct {
	Tenant     TenantID
	Contact    Contact // the caller: Phone (E.164) or Email, with Name and Ref when known
	Summary    string  // what the receptionist understood: the message body
	Transcript string  // the conversation so far, kept with the message
	Reason     string  // why a person is needed
	Urgent     bool    // marks the message and its notifications
	Job        JobID   // optional: linked, so the job's assignees are told
	Key        string  // the receptionist's id of this hand-off: a repeat returns the first message
}

// Escalate files a receptionist's hand-off as an inbound message of kind
// escalation in the contact's customer thread, and tells the thread's
// watchers (its participants and the assignees of its jobs; the business's
// dispatchers and admins when nobody watches it). Urgent ones are marked.
func (s *Hooks) Escalate(ctx context.Context, e Escalation) (_ Message, err error) {
	ctx, span := s.tel.start(ctx, "conversations.Escalate", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := e.check(); err != nil {
		return Message{}, err
	}
	switch {
	case e.Contact.Phone == "" && e.Contact.Email == "":
		return Message{}, Invalid("contact", "a phone number or an email address is required")
	case e.Contact.Phone != "" && !ValidE164(e.Contact.Phone):
		return Message{}, Invalid("contact.phone", "not an E.164 phone number")
	case e.Contact.Phone == "" && !validEmail(e.Contact.Email):
		return Message{}, Invalid("contact.email", "not an email address")
	case isBlank(e.Summary):
		return Message{}, Invalid("summary", "empty")
	case len(e.Transcript) > MaxDetailsLen:
		return Message{}, Invalid("transcript", "longer than 64 KiB")
	}
	body := e.Summary
	if e.Reason != "" {
		body += "\nReason: " + e.Reason
	}
	if err := s.checkContent(body, nil, false); err != nil {
		return Message{}, err
	}
	key := e.Key
	if key == "" {
		key = string(NewID[MessageID]())
	}
	now := s.now()
	m := Message{
		ID: NewID[MessageID](), Tenant: e.Tenant, Kind: KindEscalation, Direction: DirectionInbound,
		Channel: ChannelInApp, AuthorType: AuthorSystem, Body: body, Details: e.Transcript, Urgent: e.Urgent,
		Job: e.Job, Source: SourceReceptionist, ProviderID: "receptionist:" + key, CreatedAt: now,
		Status: StatusReceived, From: e.Contact.Phone,
	}
	if m.From == "" {
		m.From = e.Contact.Email
	}
	var created bool
	err = s.store.Tx(ctx, func(tx Store) error {
		t, err := s.contactThread(ctx, tx, e.Tenant, e.Contact, ChannelSMS, now)
		if err != nil {
			return err
		}
		if err := s.linkJob(ctx, tx, t, e.Job); err != nil {
			return err
		}
		m.Thread, m.To = t.ID, t.BusinessNumber
		m, created, err = s.appendMessage(ctx, tx, t, m)
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
