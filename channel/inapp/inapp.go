package inapp

import (
	"context"
	"fmt"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Channel is the in-app channel. It is safe for concurrent use.
type Channel struct {
	now func() time.Time
}

var _ conversations.Channel = (*Channel)(nil)

// Option configures a Channel.
type Option func(*Channel)

// WithClock sets the clock receipts are stamped with (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *Channel) {
		if now != nil {
			c.now = now
		}
	}
}

// New returns the in-app channel.
func New(opts ...Option) *Channel {
	c := &Channel{now: time.Now}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Name returns conversations.ChannelInApp.
func (c *Channel) Name() string { return conversations.ChannelInApp }

// Send checks out and reports it delivered at once. The message needs a
// tenant and an id (the id is its ProviderID) and a body or media within the
// limits; anything else is an error wrapping conversations.ErrInvalid.
func (c *Channel) Send(ctx context.Context, out conversations.Outbound) (conversations.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return conversations.Receipt{}, fmt.Errorf("inapp: send: %w", err)
	}
	if err := validate(out); err != nil {
		return conversations.Receipt{}, fmt.Errorf("inapp: send: %w", err)
	}
	return conversations.Receipt{
		ProviderID: string(out.Message),
		Status:     conversations.StatusDelivered,
		At:         c.now(),
	}, nil
}

func validate(out conversations.Outbound) error {
	switch {
	case out.Tenant == "":
		return conversations.Invalid("tenant", "empty")
	case out.Message == "":
		return conversations.Invalid("message", "empty")
	case out.Channel != "" && out.Channel != conversations.ChannelInApp:
		return conversations.Invalid("channel", fmt.Sprintf("%q is not %q", out.Channel, conversations.ChannelInApp))
	}
	return out.CheckContent()
}
