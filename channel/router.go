package channel

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Router finds the Channel for a channel name ("sms", "email", "inapp"). The
// host builds one, registers its adapters, and hands it to the delivery
// worker; there is no package-level registry. A Router is safe for
// concurrent use; its zero value is empty and ready.
type Router struct {
	mu       sync.RWMutex
	channels map[string]conversations.Channel
}

// NewRouter returns a Router holding chs (see Register).
func NewRouter(chs ...conversations.Channel) (*Router, error) {
	r := &Router{}
	for _, ch := range chs {
		if err := r.Register(ch); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Register adds ch under ch.Name(). A nil channel or an empty name is
// ErrInvalid; a name already taken is ErrConflict (value-group order is
// random, so a silent last-one-wins would make the choice random too).
func (r *Router) Register(ch conversations.Channel) error {
	if ch == nil {
		return fmt.Errorf("channel: register: %w", conversations.Invalid("channel", "nil"))
	}
	name := ch.Name()
	if name == "" {
		return fmt.Errorf("channel: register: %w", conversations.Invalid("channel.name", "empty"))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.channels[name]; ok {
		return fmt.Errorf("channel: register %q: %w: name already registered", name, conversations.ErrConflict)
	}
	if r.channels == nil {
		r.channels = map[string]conversations.Channel{}
	}
	r.channels[name] = ch
	return nil
}

// Lookup returns the Channel registered under name; an unknown name is an
// error wrapping conversations.ErrInvalid (the message names a channel the
// host never configured, so no retry can deliver it).
func (r *Router) Lookup(name string) (conversations.Channel, error) {
	r.mu.RLock()
	ch, ok := r.channels[name]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("channel: lookup: %w", conversations.Invalid("channel", fmt.Sprintf("no channel named %q", name)))
	}
	return ch, nil
}

// Names returns the registered names, sorted.
func (r *Router) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.channels))
	for n := range r.channels {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Send sends out on the Channel named by out.Channel.
func (r *Router) Send(ctx context.Context, out conversations.Outbound) (conversations.Receipt, error) {
	ch, err := r.Lookup(out.Channel)
	if err != nil {
		return conversations.Receipt{}, err
	}
	return ch.Send(ctx, out)
}
