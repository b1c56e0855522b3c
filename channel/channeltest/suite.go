package channeltest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Promptly is how long a Send may take to give up once its context is done.
// It is generous because CI machines are slow under -race; a channel that
// ignores its context takes as long as its provider does, far longer.
const Promptly = 3 * time.Second

// Concurrency is how many sends the concurrency scenario runs at once.
const Concurrency = 50

// Harness plugs a Channel implementation into Run.
type Harness struct {
	// New returns a fresh channel for one scenario. It is called once per
	// scenario, from that scenario's subtest (which may run in parallel
	// with others); register cleanup with t.Cleanup.
	New func(t *testing.T) Setup
	// Features says what the channel can do; scenarios needing what it
	// lacks are skipped.
	Features Features
}

// Setup is one scenario's channel and its hooks.
type Setup struct {
	Channel conversations.Channel
	// Outbound is a message Channel accepts. The suite gives every send
	// its own Message id and otherwise sends it as is.
	Outbound conversations.Outbound
	// Inject makes the next provider call fail as f says. Needed when
	// Features.Faults is set.
	Inject func(f Fault)
	// Stall makes the next provider call hang until the caller gives up.
	// Needed when Features.Stall is set.
	Stall func()
	// ProviderCalls reports how many calls have reached the provider so
	// far. nil when there is no provider to observe; the rule "invalid
	// input and a cancelled context reach no provider" is then not checked.
	ProviderCalls func() int
}

// Features says what a channel can do, watermill-style: a scenario skips
// what the adapter declares it lacks.
type Features struct {
	// Faults: Setup.Inject can make the provider fail on demand.
	Faults bool
	// RetryAfter: a Retryable fault injected with a RetryAfter comes back
	// with that RetryAfter (the provider's hint is passed on).
	RetryAfter bool
	// Stall: Setup.Stall can make the provider hang.
	Stall bool
	// Addressed: the channel sends to Outbound.To, so an empty To is
	// invalid input. (The in-app channel addresses a thread, not a To.)
	Addressed bool
}

// Fault is a failure to inject: the provider fails the call so that the
// channel must report a *conversations.ProviderError of Class.
type Fault struct {
	Class      conversations.ErrorClass
	RetryAfter time.Duration // for Retryable: the provider's hint
}

// Run runs every scenario against h.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("channeltest: Harness.New is nil")
	}
	scenarios := []struct {
		name string
		run  func(t *testing.T, h Harness)
	}{
		{"SendReturnsReceipt", testSendReturnsReceipt},
		{"CanceledContext", testCanceledContext},
		{"ExpiredDeadline", testExpiredDeadline},
		{"CancelWhileProviderStalls", testCancelWhileStalled},
		{"DeadlineWhileProviderStalls", testDeadlineWhileStalled},
		{"InjectedFaults", testInjectedFaults},
		{"InvalidInput", testInvalidInput},
		{"ConcurrentSends", testConcurrentSends},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t, h)
		})
	}
}

func setup(t *testing.T, h Harness) Setup {
	t.Helper()
	s := h.New(t)
	if s.Channel == nil {
		t.Fatal("channeltest: Harness.New returned no Channel")
	}
	return s
}

// message returns s.Outbound with a fresh Message id.
func message(s Setup) conversations.Outbound {
	out := s.Outbound
	out.Message = conversations.NewID[conversations.MessageID]()
	return out
}

func calls(s Setup) int {
	if s.ProviderCalls == nil {
		return 0
	}
	return s.ProviderCalls()
}

// sendTimed sends and says how long it took; it fails the test if Send
// does not return within limit (and then stops waiting for it).
func sendTimed(t *testing.T, ctx context.Context, ch conversations.Channel, out conversations.Outbound, limit time.Duration, rule string) (conversations.Receipt, time.Duration, error) {
	t.Helper()
	type result struct {
		r   conversations.Receipt
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		r, err := ch.Send(ctx, out)
		done <- result{r, err}
	}()
	select {
	case res := <-done:
		return res.r, time.Since(start), res.err
	case <-time.After(limit):
		t.Fatalf("rule %s: Send did not return within %v", rule, limit)
		return conversations.Receipt{}, 0, nil
	}
}

func checkReceipt(t *testing.T, rule string, r conversations.Receipt) {
	t.Helper()
	if r.ProviderID == "" {
		t.Errorf("rule %s: a Receipt carries the provider's message id; got an empty ProviderID", rule)
	}
	switch r.Status {
	case conversations.StatusQueued, conversations.StatusSending, conversations.StatusSent, conversations.StatusDelivered:
	default:
		t.Errorf("rule %s: a Receipt's Status is queued, sending, sent or delivered; got %q", rule, r.Status)
	}
	if r.At.IsZero() {
		t.Errorf("rule %s: a Receipt says when the provider accepted the message; At is zero", rule)
	}
}

func testSendReturnsReceipt(t *testing.T, h Harness) {
	s := setup(t, h)
	const rule = "send-returns-receipt"
	if s.Channel.Name() == "" {
		t.Errorf("rule %s: Name() is the name the delivery Worker finds the channel by (conversations.Config.Channels); got empty", rule)
	}
	r, err := s.Channel.Send(t.Context(), message(s))
	if err != nil {
		t.Fatalf("rule %s: a valid message is accepted; got %v", rule, err)
	}
	checkReceipt(t, rule, r)
}

func testCanceledContext(t *testing.T, h Harness) {
	s := setup(t, h)
	const rule = "canceled-context"
	before := calls(s)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, _, err := sendTimed(t, ctx, s.Channel, message(s), Promptly, rule)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("rule %s: Send with a cancelled context returns an error wrapping context.Canceled; got %v", rule, err)
	}
	if s.ProviderCalls != nil && calls(s) != before {
		t.Errorf("rule %s: a cancelled context reaches no provider; provider calls went from %d to %d", rule, before, calls(s))
	}
}

func testExpiredDeadline(t *testing.T, h Harness) {
	s := setup(t, h)
	const rule = "expired-deadline"
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	_, _, err := sendTimed(t, ctx, s.Channel, message(s), Promptly, rule)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("rule %s: Send with an expired deadline returns an error wrapping context.DeadlineExceeded; got %v", rule, err)
	}
}

func testCancelWhileStalled(t *testing.T, h Harness) {
	if !h.Features.Stall {
		t.Skip("channel cannot stall its provider (Features.Stall)")
	}
	s := setup(t, h)
	const rule = "cancel-while-provider-stalls"
	if s.Stall == nil {
		t.Fatalf("channeltest: Features.Stall is set but Setup.Stall is nil")
	}
	s.Stall()
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, took, err := sendTimed(t, ctx, s.Channel, message(s), Promptly, rule)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("rule %s: cancelling during a hung provider call returns an error wrapping context.Canceled; got %v (after %v)", rule, err, took)
	}
}

func testDeadlineWhileStalled(t *testing.T, h Harness) {
	if !h.Features.Stall {
		t.Skip("channel cannot stall its provider (Features.Stall)")
	}
	s := setup(t, h)
	const rule = "deadline-while-provider-stalls"
	if s.Stall == nil {
		t.Fatalf("channeltest: Features.Stall is set but Setup.Stall is nil")
	}
	s.Stall()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, took, err := sendTimed(t, ctx, s.Channel, message(s), Promptly, rule)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("rule %s: a deadline passing during a hung provider call returns an error wrapping context.DeadlineExceeded; got %v (after %v)", rule, err, took)
	}
	var pe *conversations.ProviderError
	if errors.As(err, &pe) && pe.Class != conversations.MaybeSent && pe.Class != conversations.Retryable {
		t.Errorf("rule %s: a provider call cut short is MaybeSent (or Retryable if nothing was sent); got %v", rule, pe.Class)
	}
}

func testInjectedFaults(t *testing.T, h Harness) {
	if !h.Features.Faults {
		t.Skip("channel cannot fail on demand (Features.Faults)")
	}
	faults := []struct {
		name  string
		fault Fault
	}{
		{"Permanent", Fault{Class: conversations.Permanent}},
		{"Retryable", Fault{Class: conversations.Retryable, RetryAfter: 7 * time.Second}},
		{"MaybeSent", Fault{Class: conversations.MaybeSent}},
		{"OptedOut", Fault{Class: conversations.OptedOut}},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			s := setup(t, h)
			if s.Inject == nil {
				t.Fatalf("channeltest: Features.Faults is set but Setup.Inject is nil")
			}
			rule := "fault-" + strings.ToLower(f.name)
			s.Inject(f.fault)
			_, err := s.Channel.Send(t.Context(), message(s))
			var pe *conversations.ProviderError
			if !errors.As(err, &pe) {
				t.Fatalf("rule %s: a provider failure is a *conversations.ProviderError; got %T %v", rule, err, err)
			}
			if pe.Class != f.fault.Class {
				t.Errorf("rule %s: the error's Class says what a retry can do; got %v, want %v", rule, pe.Class, f.fault.Class)
			}
			if pe.Provider == "" || pe.Op == "" {
				t.Errorf("rule %s: a ProviderError names its Provider and Op; got %q, %q", rule, pe.Provider, pe.Op)
			}
			if pe.Reason == "" {
				t.Errorf("rule %s: a ProviderError has a plain-language Reason for the sender", rule)
			}
			switch f.fault.Class {
			case conversations.Retryable:
				if h.Features.RetryAfter && pe.RetryAfter != f.fault.RetryAfter {
					t.Errorf("rule %s: the provider's retry hint is passed on; RetryAfter = %v, want %v", rule, pe.RetryAfter, f.fault.RetryAfter)
				}
				fallthrough
			case conversations.MaybeSent:
				if !pe.Temporary() || !errors.Is(err, conversations.ErrUnavailable) {
					t.Errorf("rule %s: a %v error is temporary and wraps ErrUnavailable", rule, pe.Class)
				}
			case conversations.OptedOut:
				if !errors.Is(err, conversations.ErrOptedOut) {
					t.Errorf("rule %s: an opted-out recipient is errors.Is(err, ErrOptedOut)", rule)
				}
			case conversations.Permanent:
				if pe.Temporary() {
					t.Errorf("rule %s: a permanent error is not temporary", rule)
				}
			}
			r, err := s.Channel.Send(t.Context(), message(s))
			if err != nil {
				t.Fatalf("rule fault-is-for-one-call: the send after an injected fault succeeds; got %v", err)
			}
			checkReceipt(t, "fault-is-for-one-call", r)
		})
	}
}

func testInvalidInput(t *testing.T, h Harness) {
	cases := []struct {
		name   string
		mutate func(*conversations.Outbound)
		skip   bool
	}{
		{"EmptyTo", func(o *conversations.Outbound) { o.To = "" }, !h.Features.Addressed},
		{"OversizeBody", func(o *conversations.Outbound) {
			o.Body = strings.Repeat("a", conversations.MaxBodyRunes+1)
		}, false},
		{"InvalidUTF8Body", func(o *conversations.Outbound) { o.Body = "hello \xff" }, false},
		{"TooManyMedia", func(o *conversations.Outbound) {
			o.Media = make([]conversations.Media, conversations.MaxMediaItems+1)
			for i := range o.Media {
				o.Media[i] = conversations.Media{URL: "https://example.com/a.jpg", ContentType: "image/jpeg"}
			}
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.skip {
				t.Skip("channel has no To (Features.Addressed)")
			}
			s := setup(t, h)
			rule := "invalid-input-" + strings.ToLower(c.name)
			before := calls(s)
			out := message(s)
			c.mutate(&out)
			_, err := s.Channel.Send(t.Context(), out)
			if !errors.Is(err, conversations.ErrInvalid) {
				t.Fatalf("rule %s: invalid input is an error wrapping conversations.ErrInvalid; got %v", rule, err)
			}
			var pe *conversations.ProviderError
			if errors.As(err, &pe) {
				t.Errorf("rule %s: invalid input is caught before the provider, not reported as a provider failure", rule)
			}
			if s.ProviderCalls != nil && calls(s) != before {
				t.Errorf("rule %s: invalid input reaches no provider; provider calls went from %d to %d", rule, before, calls(s))
			}
		})
	}
}

func testConcurrentSends(t *testing.T, h Harness) {
	s := setup(t, h)
	const rule = "concurrent-sends"
	before := calls(s)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ids  = map[string]int{}
		errs []error
	)
	for range Concurrency {
		wg.Go(func() {
			r, err := s.Channel.Send(t.Context(), message(s))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			ids[r.ProviderID]++
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("rule %s: %d concurrent sends all succeed; %d failed, first: %v", rule, Concurrency, len(errs), errs[0])
	}
	if len(ids) != Concurrency {
		t.Errorf("rule %s: each of %d concurrent sends gets its own provider id; got %d distinct", rule, Concurrency, len(ids))
	}
	if s.ProviderCalls != nil && calls(s)-before != Concurrency {
		t.Errorf("rule %s: each send is one provider call; %d sends made %d calls", rule, Concurrency, calls(s)-before)
	}
}
