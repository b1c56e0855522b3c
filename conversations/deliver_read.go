package conversations

import (
	"context"
	"fmt"
)

// DeliveryReader is an optional ability of a Store: the message a delivery
// attempt is for, with what Deliver checks before sending it, in one read.
// Deliver finds it by type assertion; without it, it reads each part on
// its own (GetMessage, OptedOut, GetStaff, NumberOwner).
type DeliveryReader interface {
	// ReadForDelivery returns the tenant's message id and, as of the same
	// read, the parts of DeliveryRead. A message of another tenant, or
	// none, is ErrNotFound.
	ReadForDelivery(ctx context.Context, tenant TenantID, id MessageID) (DeliveryRead, error)
}

// DeliveryRead is a message and what a delivery attempt checks for it.
type DeliveryRead struct {
	Message Message
	// OptedOut: Message.To is opted out of the tenant's messages now.
	OptedOut bool
	// Author is the sending staff member, when Message.AuthorType is
	// AuthorStaff and the tenant still has them (AuthorFound).
	Author      Staff
	AuthorFound bool
	// MessagingService is that of Message.From, when the tenant owns the
	// number and sends it through one.
	MessagingService string

	// complete: the parts above were read; otherwise only Message was,
	// and each check reads its part on its own.
	complete bool
}

// readForDelivery reads a's message, and what Deliver checks with it when
// the store can read both at once.
func (s *Service) readForDelivery(ctx context.Context, a DeliverAttempt) (DeliveryRead, error) {
	if r, ok := s.store.(DeliveryReader); ok && a.Kind == DeliverMessage {
		d, err := r.ReadForDelivery(ctx, a.Tenant, a.Message)
		d.complete = err == nil
		return d, err
	}
	m, err := s.store.GetMessage(ctx, a.Tenant, a.Message)
	return DeliveryRead{Message: m}, err
}

// optedOut says whether d's recipient is opted out now.
func (s *Service) optedOut(ctx context.Context, d DeliveryRead) (bool, error) {
	if d.complete {
		return d.OptedOut, nil
	}
	_, out, err := s.store.OptedOut(ctx, d.Message.Tenant, d.Message.To)
	return out, err
}

// author returns d's sending staff member; ErrNotFound when the tenant no
// longer has them.
func (s *Service) author(ctx context.Context, d DeliveryRead) (Staff, error) {
	switch {
	case !d.complete:
		return s.store.GetStaff(ctx, d.Message.Tenant, d.Message.Author)
	case !d.AuthorFound:
		return Staff{}, fmt.Errorf("conversations: deliver: staff %s: %w", d.Message.Author, ErrNotFound)
	}
	return d.Author, nil
}

// messagingService returns the Messaging Service d's sender number sends
// through, "" when none (or when the tenant does not own the number).
func (s *Service) messagingService(ctx context.Context, d DeliveryRead) (string, error) {
	if d.complete {
		return d.MessagingService, nil
	}
	n, err := s.store.NumberOwner(ctx, d.Message.From)
	switch {
	case isNotFound(err):
		return "", nil
	case err != nil:
		return "", err
	case n.Tenant != d.Message.Tenant:
		return "", nil
	}
	return n.MessagingService, nil
}
