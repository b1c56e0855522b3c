package conversations

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// DeliverAttempt names one delivery attempt of a queued message.
type DeliverAttempt struct {
	Kind    DeliveryKind
	Tenant  TenantID
	Message MessageID
	Attempt int  // 1 for the first try
	Final   bool // the queue's retry budget ends with this attempt
}

// Deliver makes one attempt at delivering a queued outbound message through
// its channel. The Outbox's worker calls it; it is safe to call again for the
// same message at any time (after a crash, a retry, a duplicate job), and a
// message already sent or finished is left alone.
//
// Before calling the provider it checks again what may have changed while
// the message waited: the sender may still see the thread, the customer has
// not opted out. A message whose earlier attempt may have reached the
// provider is first looked for there (Finder) and only resent when the
// provider does not have it.
//
// A nil error means the delivery is finished: the message has a final
// status, or was accepted by a provider that cannot be asked for one. A
// *Later means the provider has it and Deliver should run again then,
// to ask for the status the provider's reports have not brought
// (StatusFetcher). A *RetryError means a later attempt can succeed; on the
// Final attempt Deliver ends the message instead: failed, or unknown (with
// ReasonMaybeSent) when an attempt may have reached the provider. Any other
// error is the queue's to retry.
func (s *Worker) Deliver(ctx context.Context, a DeliverAttempt) (err error) {
	ctx, span := s.tel.start(ctx, "conversations.Deliver", trace.SpanKindInternal, a.attributes)
	var channel string // set once the message is known to be one to deliver
	defer func() { s.tel.delivered(ctx, span, channel, err) }()
	if a.Tenant == "" || a.Message == "" {
		return Invalid("delivery", "tenant and message are required")
	}
	d, err := s.readForDelivery(ctx, a)
	if err != nil {
		return err
	}
	m := d.Message
	switch a.Kind {
	case DeliverTimeline:
		return s.deliverTimeline(ctx, m)
	case DeliverNotify:
		return s.fanOut(ctx, m)
	case DeliverMessage:
	default:
		return Invalid("delivery.kind", "unknown kind "+string(a.Kind))
	}
	channel = m.Channel
	switch {
	case m.Direction != DirectionOutbound:
		return nil
	case m.ProviderID != "" && !m.Status.Final():
		// The provider has it: what is left is its final status.
		return s.checkStatus(ctx, m)
	case m.Status != StatusQueued && m.Status != StatusSending:
		return nil
	}
	// Pacing comes first: a delivery that has no slot yet costs a read.
	if err := s.pace(ctx, m); err != nil {
		return err
	}
	if reason, ok, err := s.mayStillSend(ctx, d); err != nil {
		return err
	} else if !ok {
		return s.fail(ctx, m, "", reason)
	}
	if m.Kind == KindWorkflow {
		// Automated messages wait out the business's quiet hours, also when
		// a retry or a settings change lands them inside.
		st, err := s.store.GetSettings(ctx, m.Tenant)
		if err != nil {
			return err
		}
		if now := s.now(); st.Quiet.Next(now).After(now) {
			return &RetryError{After: st.Quiet.Next(now).Sub(now), Err: errQuietHours}
		}
	}
	ch, ok := s.channels[m.Channel]
	if !ok {
		return s.retry(ctx, m, a, m.Status == StatusSending, &RetryError{Err: fmt.Errorf("conversations: deliver: no %q channel configured", m.Channel)})
	}
	out, err := s.outbound(ctx, d)
	if err != nil {
		return err
	}
	maybeSent := m.Status == StatusSending // an earlier attempt may have reached the provider
	if maybeSent {
		// Never resend blindly.
		done, err := s.reconcile(ctx, ch, m, out)
		var later *Later
		switch {
		case errors.As(err, &later):
			return err
		case err != nil:
			return s.retry(ctx, m, a, true, err)
		case done:
			return nil
		}
	} else if m, err = s.applyStatusFrom(ctx, m, StatusUpdate{Tenant: m.Tenant, Message: m.ID, Status: StatusSending, At: s.now()}); err != nil {
		return err
	}
	rcpt, err := s.tel.send(ctx, ch, out)
	if err == nil {
		return s.accepted(ctx, m, rcpt)
	}
	var pe *ProviderError
	switch {
	case errors.As(err, &pe) && pe.Class == OptedOut:
		if err := s.store.RecordOptOut(ctx, OptOut{Tenant: m.Tenant, Address: m.To, BusinessNumber: m.From, Keyword: OptOutByCarrier, OptedOut: true, At: s.now()}); err != nil {
			return err
		}
		s.tel.optOut(ctx, m.Channel, OptOutByCarrier, true)
		return s.fail(ctx, m, pe.Code, "the carrier reports this number opted out of "+m.Channel+" from this business")
	case errors.As(err, &pe) && pe.Class == Permanent:
		return s.fail(ctx, m, pe.Code, pe.Reason)
	case errors.As(err, &pe):
		return s.retry(ctx, m, a, maybeSent || pe.Class == MaybeSent, &RetryError{After: pe.RetryAfter, Err: err})
	case errors.Is(err, ErrInvalid):
		return s.fail(ctx, m, "", "the channel refused the message: "+err.Error())
	default:
		// An error the channel did not classify: it may have sent.
		return s.retry(ctx, m, a, true, &RetryError{Err: err})
	}
}

// pace waits for m's sender's send slot: here when it is near, else by
// running the delivery again then (*Later).
func (s *core) pace(ctx context.Context, m Message) error {
	if s.pacer == nil || m.From == "" {
		return nil
	}
	automated := m.Kind == KindWorkflow
	wait, err := s.pacer.Take(ctx, m.Tenant, m.From, automated)
	switch {
	case err != nil:
		return err
	case wait <= 0:
		return nil
	case automated || wait > maxPaceSleep:
		// The reserved slot is given up: the queue's worker is not held.
		return &Later{After: wait}
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// maxPaceSleep is the longest a delivery waits for its slot in place.
const maxPaceSleep = 5 * time.Second

// mayStillSend re-checks, at send time, what may have changed since the
// message was accepted.
func (s *core) mayStillSend(ctx context.Context, d DeliveryRead) (reason string, ok bool, err error) {
	m := d.Message
	if m.Channel == ChannelSMS || m.Channel == ChannelEmail {
		out, err := s.optedOut(ctx, d)
		if err != nil {
			return "", false, err
		}
		if out {
			return "the customer opted out of " + m.Channel + " from this business before the message went out", false, nil
		}
	}
	if m.AuthorType != AuthorStaff {
		return "", true, nil
	}
	st, err := s.author(ctx, d)
	if isNotFound(err) {
		return "the sender is no longer on the business's staff", false, nil
	} else if err != nil {
		return "", false, err
	}
	scope := s.policy.Scope(st.Viewer())
	kind := ThreadInternal
	if m.Channel == ChannelSMS || m.Channel == ChannelEmail {
		kind = ThreadCustomer // SMS and email live in customer threads only
	}
	if scope.Allows(Thread{Tenant: m.Tenant, ID: m.Thread, Kind: kind}) {
		// Participants and jobs only widen what a scope allows (a
		// dispatcher's scope allows every customer thread): the thread's
		// read is saved.
		return "", true, nil
	}
	t, err := s.store.GetThread(ctx, m.Tenant, m.Thread)
	if err != nil {
		return "", false, err
	}
	if !scope.Allows(t) {
		return "the sender may no longer see this conversation", false, nil
	}
	return "", true, nil
}

// outbound builds what the channel gets for m.
func (s *core) outbound(ctx context.Context, d DeliveryRead) (Outbound, error) {
	m := d.Message
	ms, err := s.messagingService(ctx, d)
	if err != nil {
		return Outbound{}, err
	}
	return Outbound{
		Tenant: m.Tenant, Message: m.ID, Thread: m.Thread, Channel: m.Channel,
		From: m.From, To: m.To, Body: m.Body, Subject: m.Subject, Media: m.Media, MessagingService: ms,
	}, nil
}

// reconcile asks the provider whether an earlier attempt reached it. done
// means the provider has the message and its receipt is recorded.
func (s *core) reconcile(ctx context.Context, ch Channel, m Message, out Outbound) (done bool, err error) {
	f, ok := ch.(Finder)
	if !ok {
		// Nothing to ask: losing an accepted message is worse than a repeat,
		// so channels that can accept without answering implement Finder.
		s.log.WarnContext(ctx, "conversations: deliver: resending without reconciling: the channel cannot look up earlier attempts",
			"channel", ch.Name(), "message", m.ID)
		return false, nil
	}
	rcpt, err := s.tel.find(ctx, f, ch.Name(), out, m.CreatedAt)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, &RetryError{Err: err}
	}
	return true, s.accepted(ctx, m, rcpt)
}

// accepted records the provider's receipt. A nil error with a StatusFetcher
// channel is a *Later: the queue keeps the delivery until the
// message's status is final.
func (s *core) accepted(ctx context.Context, m Message, r Receipt) error {
	if r.At.IsZero() {
		r.At = s.now()
	}
	st := r.Status
	if !st.Valid() || st.Rank() < StatusSending.Rank() || st == StatusUnknown {
		st = StatusSending // the provider has it queued: keep "sending" and record its id
	}
	m, err := s.applyStatusFrom(ctx, m, StatusUpdate{Tenant: m.Tenant, Message: m.ID, Channel: m.Channel, ProviderID: r.ProviderID, Status: st, At: r.At})
	if err != nil {
		return err
	}
	return s.checkLater(m)
}

// retry passes a retryable error to the queue or, on the final attempt,
// ends the message: unknown when an attempt may have reached the provider
// (the customer may have it), failed when none did.
func (s *core) retry(ctx context.Context, m Message, a DeliverAttempt, maybeSent bool, err error) error {
	if err == nil {
		return nil
	}
	if !a.Final {
		return err
	}
	if maybeSent {
		return s.setStatus(ctx, StatusUpdate{Tenant: m.Tenant, Message: m.ID, Status: StatusUnknown, At: s.now(),
			ErrorReason: fmt.Sprintf("%s: no answer from the provider after %d attempts (%v)", ReasonMaybeSent, a.Attempt, err)})
	}
	return s.fail(ctx, m, "", fmt.Sprintf("gave up after %d attempts: %v", a.Attempt, err))
}

// fail ends a message as failed with a code and a plain-language reason.
func (s *core) fail(ctx context.Context, m Message, code, reason string) error {
	return s.setStatus(ctx, StatusUpdate{Tenant: m.Tenant, Message: m.ID, Status: StatusFailed, At: s.now(), ErrorCode: code, ErrorReason: reason})
}

// applyStatus applies u and tells the sender when it changed anything.
func (s *core) applyStatus(ctx context.Context, u StatusUpdate) (Message, error) {
	m, changed, err := s.store.ApplyStatus(ctx, u)
	if err != nil {
		return Message{}, err
	}
	if changed {
		s.tel.statusChanged(ctx, m)
		s.notifyStatus(ctx, m)
	}
	return m, nil
}

// applyStatusFrom is applyStatus on m as Deliver has just read it.
func (s *core) applyStatusFrom(ctx context.Context, m Message, u StatusUpdate) (Message, error) {
	m, changed, err := s.fast.ApplyStatusFrom(ctx, m, u)
	if err != nil {
		return Message{}, err
	}
	if changed {
		s.notifyStatus(ctx, m)
	}
	return m, nil
}

// setStatus is applyStatus for callers that need only the error.
func (s *core) setStatus(ctx context.Context, u StatusUpdate) error {
	_, err := s.applyStatus(ctx, u)
	return err
}

var errQuietHours = errors.New("conversations: deliver: inside the business's quiet hours")
