package conversations

import (
	"context"
	"errors"
	"time"
)

// DefaultStatusCheckFor is how long a message is asked about when
// Config.StatusCheckFor is zero. SMS carriers report within hours; a report
// that has not come in three days will not come.
const DefaultStatusCheckFor = 72 * time.Hour

// maxStatusCheckWait caps the doubling waits between two lookups.
const maxStatusCheckWait = time.Hour

// Later is what Deliver returns when the same delivery should run again
// after After without spending an attempt of the queue's retry budget: the
// provider has the message and its status is to be asked for then, or the
// sender's pace (Pacer) has no slot before then.
type Later struct {
	After time.Duration
	// Accepted: the provider took the message in this run of Deliver;
	// what is left is its final status. Otherwise the run waits for a
	// status check that is not due yet, or for the sender's pacing slot.
	Accepted bool
}

func (e *Later) Error() string {
	return "conversations: deliver: again in " + e.After.String()
}

// checkStatus is Deliver for a message the provider has accepted: it asks
// the provider for the status when the reports are late, and says when to
// ask again.
func (s *core) checkStatus(ctx context.Context, m Message) error {
	f, ok := s.channels[m.Channel].(StatusFetcher)
	if !ok || f.StatusCheckAfter() <= 0 {
		return nil // nothing to ask: the provider's reports are all there is
	}
	now, age := s.now(), f.StatusCheckAfter()
	if wait := lastChange(m).Add(age).Sub(now); wait > 0 {
		return &Later{After: wait}
	}
	u, err := f.FetchStatus(ctx, m.ProviderID)
	switch {
	case err == nil:
		u.Tenant, u.Message, u.Channel = m.Tenant, m.ID, m.Channel
		if m, err = s.applyStatusFrom(ctx, m, u); err != nil {
			return err
		}
		if m.Status.Final() {
			return nil
		}
	case isNotFound(err) || errors.Is(err, ErrInvalid):
		// The provider does not know this id: there is nothing to ask.
		s.log.WarnContext(ctx, "conversations: status check: the provider has no such message",
			"message", m.ID, "provider_id", m.ProviderID, "error", err)
		return nil
	case ctx.Err() != nil:
		return err
	default:
		s.log.InfoContext(ctx, "conversations: status check: lookup failed, asking later", "message", m.ID, "error", err)
	}
	elapsed := now.Sub(m.CreatedAt)
	if elapsed >= s.checkFor {
		// Asked for long enough: the message keeps what the provider last said.
		s.log.InfoContext(ctx, "conversations: status check: no final status; keeping the last reported",
			"message", m.ID, "status", m.Status)
		return nil
	}
	return &Later{After: min(max(now.Sub(lastChange(m)), age), maxStatusCheckWait, s.checkFor-elapsed)}
}

// checkLater is what Deliver returns once the provider has m: the first
// status check, when the channel can answer one.
func (s *core) checkLater(m Message) error {
	f, ok := s.channels[m.Channel].(StatusFetcher)
	if !ok || m.Status.Final() || f.StatusCheckAfter() <= 0 {
		return nil
	}
	return &Later{After: f.StatusCheckAfter(), Accepted: true}
}

// lastChange is when m's status last moved, as far as the message records.
func lastChange(m Message) time.Time {
	t := m.CreatedAt
	if m.SentAt.After(t) {
		t = m.SentAt
	}
	return t
}
