package conversations

import (
	"context"
	"time"
)

// Outbound is one message handed to a Channel for delivery.
type Outbound struct {
	Tenant  TenantID
	Message MessageID // our id; adapters pass it to the provider for correlation
	Thread  ThreadID
	Channel string // ChannelSMS, ChannelEmail, ...
	From    string // the business's provisioned number or sender address
	// MessagingService is the provider-side sender pool to send through
	// instead of From, when the business has one (BusinessNumber.MessagingService).
	MessagingService string
	To               string // E.164 number or email address
	Body             string
	Subject          string // email
	Media            []Media
}

// Receipt is a provider's acceptance of an Outbound.
type Receipt struct {
	ProviderID string    // the provider's message id
	Status     Status    // usually StatusQueued or StatusSent at acceptance
	At         time.Time // when the provider accepted it
}

// Channel delivers outbound messages through one provider.
//
// Send delivers one message or says why not. It honours ctx (cancellation
// and deadline) even when the provider's SDK does not. A failed send returns a
// *ProviderError whose Class says whether a retry can help and, for MaybeSent,
// that the provider may already have the message; it returns ErrInvalid (for
// example an address the channel cannot reach) without calling the provider.
// Implementations are safe for concurrent use. The channeltest package checks
// these rules.
type Channel interface {
	Name() string
	Send(ctx context.Context, out Outbound) (Receipt, error)
}

// StatusFetcher is an optional Channel ability: asking the provider for a
// message's current status. Deliver uses it to make up for status reports
// that never arrived (a callback lost while the host was down, a receipt of
// queued that nothing followed): a message the provider accepted whose
// status is not final StatusCheckAfter after its last change is asked
// about, again after waits that double, until its status is final or the
// Service's StatusCheckFor has passed.
//
// FetchStatus returns ErrNotFound when the provider has no such message and
// ErrInvalid for an id that cannot be the provider's. Any other error is a
// failed lookup, asked again later. StatusCheckAfter is how long after a
// message's last change a report may still be on its way (minutes for SMS);
// zero or less says the channel's reports are all there is: nothing is asked.
type StatusFetcher interface {
	FetchStatus(ctx context.Context, providerID string) (StatusUpdate, error)
	StatusCheckAfter() time.Duration
}

// InboundMessage is a message a channel received from outside (a customer's
// SMS). The Service files it in the customer thread for (Tenant,
// BusinessNumber, From).
type InboundMessage struct {
	Tenant         TenantID // "" for the business BusinessNumber is provisioned to
	Channel        string   // ChannelSMS, ChannelEmail
	BusinessNumber string   // the business address it was sent to
	From           string   // the customer's address
	Body           string
	Media          []Media
	ProviderID     string // the provider's id: a repeat with the same id is the same message
	ReceivedAt     time.Time
}
