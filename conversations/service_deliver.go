package conversations

import (
	"context"
	"errors"
	"fmt"

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
// A nil error means the attempt is finished: the message was accepted by the
// provider, or failed for good (its status says why). A *RetryError means a
// later attempt can succeed; on the Final attempt Deliver marks the message
// failed instead. Any other error is the queue's to retry.
func (s *Service) Deliver(ctx context.Context, a DeliverAttempt) (err error) {
	ctx, span := s.tel.start(ctx, "conversations.Deliver", trace.SpanKindInternal, a.attributes)
	var channel string // set once the message is known to be one to deliver
	defer func() { s.tel.delivered(ctx, span, channel, err) }()
	if a.Tenant == "" || a.Message == "" {
		return Invalid("delivery", "tenant and message are required")
	}
	m, err := s.store.GetMessage(ctx, a.Tenant, a.Message)
	if err != nil {
		return err
	}
	switch a.Kind {
	case DeliverTimeline:
		return s.deliverTimeline(ctx, m)
	case DeliverMessage:
	default:
		return Invalid("delivery.kind", "unknown kind "+string(a.Kind))
	}
	channel = m.Channel
	if m.Direction != DirectionOutbound || (m.Status != StatusQueued && m.Status != StatusSending) {
		return nil
	}
	if reason, ok, err := s.mayStillSend(ctx, m); err != nil {
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
		return s.retry(ctx, m, a, &RetryError{Err: fmt.Errorf("conversations: deliver: no %q channel configured", m.Channel)})
	}
	out, err := s.outbound(ctx, m)
	if err != nil {
		return err
	}
	if m.Status == StatusSending {
		// An earlier attempt may have reached the provider: never resend blindly.
		done, err := s.reconcile(ctx, ch, m, out)
		if err != nil || done {
			return s.retry(ctx, m, a, err)
		}
	} else if err := s.setStatus(ctx, StatusUpdate{Tenant: m.Tenant, Message: m.ID, Status: StatusSending, At: s.now()}); err != nil {
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
		return s.retry(ctx, m, a, &RetryError{After: pe.RetryAfter, Err: err})
	case errors.Is(err, ErrInvalid):
		return s.fail(ctx, m, "", "the channel refused the message: "+err.Error())
	default:
		return s.retry(ctx, m, a, &RetryError{Err: err})
	}
}

// mayStillSend re-checks, at send time, what may have changed since the
// message was accepted.
func (s *Service) mayStillSend(ctx context.Context, m Message) (reason string, ok bool, err error) {
	if m.Channel == ChannelSMS || m.Channel == ChannelEmail {
		_, out, err := s.store.OptedOut(ctx, m.Tenant, m.To)
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
	st, err := s.store.GetStaff(ctx, m.Tenant, m.Author)
	if isNotFound(err) {
		return "the sender is no longer on the business's staff", false, nil
	} else if err != nil {
		return "", false, err
	}
	t, err := s.store.GetThread(ctx, m.Tenant, m.Thread)
	if err != nil {
		return "", false, err
	}
	if !s.policy.Scope(st.Viewer()).Allows(t) {
		return "the sender may no longer see this conversation", false, nil
	}
	return "", true, nil
}

// outbound builds what the channel gets for m.
func (s *Service) outbound(ctx context.Context, m Message) (Outbound, error) {
	out := Outbound{
		Tenant: m.Tenant, Message: m.ID, Thread: m.Thread, Channel: m.Channel,
		From: m.From, To: m.To, Body: m.Body, Subject: m.Subject, Media: m.Media,
	}
	if n, err := s.store.NumberOwner(ctx, m.From); err == nil && n.Tenant == m.Tenant {
		out.MessagingService = n.MessagingService
	} else if err != nil && !isNotFound(err) {
		return Outbound{}, err
	}
	return out, nil
}

// reconcile asks the provider whether an earlier attempt reached it. done
// means the provider has the message and its receipt is recorded.
func (s *Service) reconcile(ctx context.Context, ch Channel, m Message, out Outbound) (done bool, err error) {
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

// accepted records the provider's receipt.
func (s *Service) accepted(ctx context.Context, m Message, r Receipt) error {
	if r.At.IsZero() {
		r.At = s.now()
	}
	st := r.Status
	if !st.Valid() || st.Rank() < StatusSending.Rank() {
		st = StatusSending // the provider has it queued: keep "sending" and record its id
	}
	return s.setStatus(ctx, StatusUpdate{Tenant: m.Tenant, Message: m.ID, Channel: m.Channel, ProviderID: r.ProviderID, Status: st, At: r.At})
}

// retry passes a retryable error to the queue, or, on the final attempt,
// fails the message with the reason.
func (s *Service) retry(ctx context.Context, m Message, a DeliverAttempt, err error) error {
	if err == nil {
		return nil
	}
	if !a.Final {
		return err
	}
	return s.fail(ctx, m, "", fmt.Sprintf("gave up after %d attempts: %v", a.Attempt, err))
}

// fail ends a message as failed with a code and a plain-language reason.
func (s *Service) fail(ctx context.Context, m Message, code, reason string) error {
	return s.setStatus(ctx, StatusUpdate{Tenant: m.Tenant, Message: m.ID, Status: StatusFailed, At: s.now(), ErrorCode: code, ErrorReason: reason})
}

// applyStatus applies u and tells the sender when it changed anything.
func (s *Service) applyStatus(ctx context.Context, u StatusUpdate) (Message, error) {
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

// setStatus is applyStatus for callers that need only the error.
func (s *Service) setStatus(ctx context.Context, u StatusUpdate) error {
	_, err := s.applyStatus(ctx, u)
	return err
}

var errQuietHours = errors.New("conversations: deliver: inside the business's quiet hours")
