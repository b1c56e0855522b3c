package channeltest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Fake is a recording conversations.Channel with scripted outcomes, for the
// tests of code that sends through a Channel. It keeps the Channel rules
// (it checks its input and honours ctx) so code tested against it meets a
// real adapter's behaviour. It is safe for concurrent use.
//
// By default every valid send succeeds with a Receipt of StatusQueued and a
// unique ProviderID. Script queues outcomes for the next provider calls,
// one each; SetLatency slows every call down. It also implements
// conversations.StatusFetcher and conversations.Finder, for reconciliation.
type Fake struct {
	name string

	mu       sync.Mutex
	now      func() time.Time
	latency  time.Duration
	script   []Result
	calls    []Call
	seq      int
	statuses map[string]conversations.StatusUpdate
	checkAge time.Duration
}

// Result is the scripted outcome of one provider call.
type Result struct {
	// Receipt is returned when Err is nil; an empty ProviderID, Status or
	// At is filled in as for an unscripted call.
	Receipt conversations.Receipt
	Err     error
	// Delay is added to the call's latency; the call gives up early (as
	// MaybeSent) when ctx is done first.
	Delay time.Duration
	// Hang blocks the call until ctx is done.
	Hang bool
	// Lost, with a MaybeSent Err, says the provider never got the message
	// after all, so Find does not find it. Without it a MaybeSent call is
	// held: the provider has the message though the caller was not told.
	Lost bool
}

// Call is one Send the Fake saw.
type Call struct {
	Out     conversations.Outbound
	Receipt conversations.Receipt
	Err     error
	// Provider says whether the call got past the context and input
	// checks and reached the fake provider.
	Provider bool
	// Held says the fake provider has the message: the call succeeded, or
	// failed as MaybeSent (and not Lost). Receipt is then set even for a
	// failed call, and Find finds it.
	Held bool
}

var (
	_ conversations.Channel       = (*Fake)(nil)
	_ conversations.StatusFetcher = (*Fake)(nil)
	_ conversations.Finder        = (*Fake)(nil)
)

// NewFake returns a Fake whose Name is name.
func NewFake(name string) *Fake {
	return &Fake{name: name, now: time.Now, statuses: map[string]conversations.StatusUpdate{}}
}

// Name returns the name given to NewFake.
func (f *Fake) Name() string { return f.name }

// SetClock sets the clock receipts are stamped with.
func (f *Fake) SetClock(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}

// SetLatency makes every provider call take d (or until ctx is done).
func (f *Fake) SetLatency(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency = d
}

// Script queues outcomes for the next provider calls, one per call, after
// any already queued.
func (f *Fake) Script(results ...Result) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = append(f.script, results...)
}

// FailNext makes the next n provider calls return err.
func (f *Fake) FailNext(n int, err error) {
	for range n {
		f.Script(Result{Err: err})
	}
}

// Inject makes the next provider call fail with a ProviderError of fault's
// class; it is the Setup.Inject hook for Run.
func (f *Fake) Inject(fault Fault) {
	f.Script(Result{Err: Error(fault.Class, fault.RetryAfter)})
}

// Stall makes the next provider call hang until its ctx is done; it is the
// Setup.Stall hook for Run.
func (f *Fake) Stall() { f.Script(Result{Hang: true}) }

// Calls returns every Send so far, in order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// ProviderCalls counts the calls that reached the fake provider; it is the
// Setup.ProviderCalls hook for Run.
func (f *Fake) ProviderCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.Provider {
			n++
		}
	}
	return n
}

// Sent returns the messages the Fake accepted, in order.
func (f *Fake) Sent() []conversations.Outbound {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []conversations.Outbound
	for _, c := range f.calls {
		if c.Err == nil {
			out = append(out, c.Out)
		}
	}
	return out
}

// SetStatus sets what FetchStatus answers for u.ProviderID.
func (f *Fake) SetStatus(u conversations.StatusUpdate) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statuses[u.ProviderID] = u
}

// SetStatusCheckAfter sets what StatusCheckAfter answers: zero (the
// default) asks Deliver never to check a message's status.
func (f *Fake) SetStatusCheckAfter(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checkAge = d
}

// StatusCheckAfter implements conversations.StatusFetcher; see SetStatusCheckAfter.
func (f *Fake) StatusCheckAfter() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.checkAge
}

// FetchStatus returns what SetStatus set for providerID, or else the
// receipt's status of a message the fake provider holds, or else
// conversations.ErrNotFound.
func (f *Fake) FetchStatus(ctx context.Context, providerID string) (conversations.StatusUpdate, error) {
	if err := ctx.Err(); err != nil {
		return conversations.StatusUpdate{}, fmt.Errorf("channeltest: fetch: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, ok := f.statuses[providerID]; ok {
		return u, nil
	}
	for _, c := range f.calls {
		if c.Held && c.Receipt.ProviderID == providerID {
			return conversations.StatusUpdate{
				Tenant: c.Out.Tenant, Message: c.Out.Message, Channel: f.name,
				ProviderID: providerID, Status: c.Receipt.Status, At: c.Receipt.At,
			}, nil
		}
	}
	return conversations.StatusUpdate{}, fmt.Errorf("channeltest: fetch %s: %w", providerID, conversations.ErrNotFound)
}

// Send records out and answers with the next scripted Result.
func (f *Fake) Send(ctx context.Context, out conversations.Outbound) (conversations.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return f.record(Call{Out: out, Err: Error(conversations.Retryable, 0, err)})
	}
	if err := validate(out); err != nil {
		return f.record(Call{Out: out, Err: fmt.Errorf("channeltest: send: %w", err)})
	}

	f.mu.Lock()
	var res Result
	if len(f.script) > 0 {
		res, f.script = f.script[0], f.script[1:]
	}
	wait := f.latency + res.Delay
	f.mu.Unlock()

	if res.Hang || wait > 0 {
		var timer <-chan time.Time
		if !res.Hang {
			t := time.NewTimer(wait)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-ctx.Done():
			// The fake provider had the message when the caller gave up.
			return f.record(Call{Out: out, Provider: true, Held: !res.Lost, Err: Error(conversations.MaybeSent, 0, ctx.Err())})
		case <-timer:
		}
	}
	if res.Err != nil {
		var pe *conversations.ProviderError
		held := errors.As(res.Err, &pe) && pe.Class == conversations.MaybeSent && !res.Lost
		return f.record(Call{Out: out, Provider: true, Held: held, Err: res.Err})
	}
	return f.record(Call{Out: out, Provider: true, Held: true, Receipt: res.Receipt})
}

// Find returns the receipt of the newest held call for out.Message (see
// Call.Held), or conversations.ErrNotFound; since is not checked. It is
// the conversations.Finder the delivery worker reconciles with.
func (f *Fake) Find(ctx context.Context, out conversations.Outbound, since time.Time) (conversations.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return conversations.Receipt{}, fmt.Errorf("channeltest: find: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.calls) - 1; i >= 0; i-- {
		if c := f.calls[i]; c.Held && out.Message != "" && c.Out.Message == out.Message {
			return c.Receipt, nil
		}
	}
	return conversations.Receipt{}, fmt.Errorf("channeltest: find %s: %w", out.Message, conversations.ErrNotFound)
}

// record stores c, filling in the receipt of a held message, and returns
// the call's outcome.
func (f *Fake) record(c Call) (conversations.Receipt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.Held {
		f.seq++
		if c.Receipt.ProviderID == "" {
			c.Receipt.ProviderID = fmt.Sprintf("fake-%s-%06d", f.name, f.seq)
		}
		if c.Receipt.Status == "" {
			c.Receipt.Status = conversations.StatusQueued
		}
		if c.Receipt.At.IsZero() {
			c.Receipt.At = f.now()
		}
	}
	f.calls = append(f.calls, c)
	if c.Err != nil {
		return conversations.Receipt{}, c.Err
	}
	return c.Receipt, nil
}

// Error returns a *conversations.ProviderError of class from the provider
// "channeltest", for scripting failures: Error(conversations.Retryable,
// 30*time.Second) is a rate limit. cause, when given, is wrapped.
func Error(class conversations.ErrorClass, retryAfter time.Duration, cause ...error) *conversations.ProviderError {
	e := &conversations.ProviderError{
		Provider:   "channeltest",
		Op:         "send",
		Class:      class,
		RetryAfter: retryAfter,
		Reason:     "the fake provider was told to fail (" + class.String() + ")",
	}
	switch len(cause) {
	case 0:
	case 1:
		e.Err = cause[0]
	default:
		e.Err = errors.Join(cause...)
	}
	return e
}

func validate(out conversations.Outbound) error {
	switch {
	case out.To == "":
		return conversations.Invalid("to", "empty")
	case !utf8.ValidString(out.Body):
		return conversations.Invalid("body", "not valid UTF-8")
	case utf8.RuneCountInString(out.Body) > conversations.MaxBodyRunes:
		return conversations.Invalid("body", "longer than 1600 characters")
	case out.Body == "" && len(out.Media) == 0:
		return conversations.Invalid("body", "empty")
	case len(out.Media) > conversations.MaxMediaItems:
		return conversations.Invalid("media", "more than 10 items")
	}
	return nil
}
