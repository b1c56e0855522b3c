package conversations

import (
	"context"
	"fmt"
)

// DeliveryReader is an optional ability of a Store: the message a delivery
// attempt is for, with what Deliver checks before sending it, in one read.
// Without it, the fallback (fastpath.go) reads each part on its own
// (GetMessage, OptedOut, GetStaff, NumberOwner).
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
func (s *core) readForDelivery(ctx context.Context, a DeliverAttempt) (DeliveryRead, error) {
	if a.Kind == DeliverMessage {
		d, err := s.fast.ReadForDelivery(ctx, a.Tenant, a.Message)
		d.complete = err == nil
		return d, err
	}
	m, err := s.store.GetMessage(ctx, a.Tenant, a.Message)
	return DeliveryRead{Message: m}, err
}

// optedOut says whether d's recipient is opted out now.
func (s *core) optedOut(ctx context.Context, d DeliveryRead) (bool, error) {
	if d.complete {
		return d.OptedOut, nil
	}
	_, out, err := s.store.OptedOut(ctx, d.Message.Tenant, d.Message.To)
	return out, err
}

// author returns d's sending staff member; ErrNotFound when the tenant no
// longer has them.
func (s *core) author(ctx context.Context, d DeliveryRead) (Staff, error) {
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
func (s *core) messagingService(ctx context.Context, d DeliveryRead) (string, error) {
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

// ReadForDelivery is the Store's own, or GetMessage, OptedOut, GetStaff
// and NumberOwner, one after the other.
func (f fastPaths) ReadForDelivery(ctx context.Context, tenant TenantID, id MessageID) (DeliveryRead, error) {
	if f.delivery != nil {
		return f.delivery.ReadForDelivery(ctx, tenant, id)
	}
	m, err := f.GetMessage(ctx, tenant, id)
	if err != nil {
		return DeliveryRead{}, err
	}
	d := DeliveryRead{Message: m}
	if m.To != "" {
		if _, d.OptedOut, err = f.OptedOut(ctx, tenant, m.To); err != nil {
			return DeliveryRead{}, err
		}
	}
	if m.AuthorType == AuthorStaff && m.Author != "" {
		st, err := f.GetStaff(ctx, tenant, m.Author)
		switch {
		case err == nil:
			d.Author, d.AuthorFound = st, true
		case !isNotFound(err):
			return DeliveryRead{}, err
		}
	}
	if m.From != "" {
		n, err := f.NumberOwner(ctx, m.From)
		switch {
		case err == nil && n.Tenant == tenant:
			d.MessagingService = n.MessagingService
		case err != nil && !isNotFound(err):
			return DeliveryRead{}, err
		}
	}
	return d, nil
}
