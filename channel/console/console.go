package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/fieldtalk/fieldtalk/channel"
	"github.com/fieldtalk/fieldtalk/conversations"
)

// Channel prints outbound SMS instead of sending them. It is safe for
// concurrent use: lines from concurrent sends never interleave.
type Channel struct {
	now    func() time.Time
	region string
	newID  func() string

	mu sync.Mutex // serialises writes to w
	w  io.Writer
}

var _ conversations.Channel = (*Channel)(nil)

// Option configures a Channel.
type Option func(*Channel)

// WithClock sets the clock for receipts and printed lines (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *Channel) {
		if now != nil {
			c.now = now
		}
	}
}

// WithRegion sets the region for To numbers written without a country code
// (default channel.DefaultRegion).
func WithRegion(region string) Option { return func(c *Channel) { c.region = region } }

// WithIDs sets how provider ids are made (default "console-" + a UUIDv7);
// tests use it for predictable output.
func WithIDs(newID func() string) Option {
	return func(c *Channel) {
		if newID != nil {
			c.newID = newID
		}
	}
}

// New returns a Channel that writes to w.
func New(w io.Writer, opts ...Option) (*Channel, error) {
	if w == nil {
		return nil, errors.New("console: new: nil writer")
	}
	c := &Channel{
		w:      w,
		now:    time.Now,
		region: channel.DefaultRegion,
		newID:  func() string { return "console-" + conversations.NewID[string]() },
	}
	for _, o := range opts {
		o(c)
	}
	if _, err := channel.ParsePhone("+15005550006", c.region); err != nil {
		return nil, fmt.Errorf("console: new: %w", err)
	}
	return c, nil
}

// Name returns conversations.ChannelSMS.
func (c *Channel) Name() string { return conversations.ChannelSMS }

// Send prints out as one line and returns a Receipt of StatusSent. To must
// be a phone number (channel.ParsePhone) and the body within the SMS limits;
// otherwise the error wraps conversations.ErrInvalid. A failing writer is a
// Retryable *conversations.ProviderError.
func (c *Channel) Send(ctx context.Context, out conversations.Outbound) (conversations.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return conversations.Receipt{}, fmt.Errorf("console: send: %w", err)
	}
	to, err := channel.ParsePhone(out.To, c.region)
	if err != nil {
		return conversations.Receipt{}, fmt.Errorf("console: send: to: %w", err)
	}
	if err := out.CheckContent(); err != nil {
		return conversations.Receipt{}, fmt.Errorf("console: send: %w", err)
	}
	seg, err := channel.CountSegments(out.Body)
	if err != nil {
		return conversations.Receipt{}, fmt.Errorf("console: send: %w", err)
	}
	from := out.From
	if out.MessagingService != "" {
		from = out.MessagingService
	}
	if from == "" {
		from = "(none)"
	}
	r := conversations.Receipt{ProviderID: c.newID(), Status: conversations.StatusSent, At: c.now()}
	line := fmt.Sprintf("%s SMS %s -> %s [tenant %s, message %s, %d %s segment(s), %d media]: %q\n",
		r.At.UTC().Format(time.RFC3339), from, to, out.Tenant, out.Message, seg.Count, seg.Encoding, len(out.Media), out.Body)
	c.mu.Lock()
	_, err = io.WriteString(c.w, line)
	c.mu.Unlock()
	if err != nil {
		return conversations.Receipt{}, &conversations.ProviderError{
			Provider: "console", Op: "send", Class: conversations.Retryable,
			Reason: "the console output could not be written", Err: err,
		}
	}
	return r, nil
}
