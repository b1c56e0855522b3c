package notifytest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Harness builds what the suite's scenarios need.
type Harness struct {
	// New returns a fresh backend for one scenario: a Notifier and the
	// means to watch what it delivers. Required. It is called once per
	// scenario, and scenarios run in parallel; clean up with t.Cleanup.
	New func(t *testing.T) *Backend
	// Timeout bounds each wait for a delivery (default 10s).
	Timeout time.Duration
	// Quiet is how long the suite listens for deliveries that must not
	// come (default 200ms).
	Quiet time.Duration
	// Shows says the Notifier shows notifications on a phone (a push):
	// the suite then checks that it honours the recipient's preferences
	// (Notification.Silent and Preview), with Delivery.Shown and Alert. A
	// stream that carries every event as is leaves it false.
	Shows bool
}

// Backend is one scenario's Notifier under test and its observers.
type Backend struct {
	// Notifier is the implementation under test.
	Notifier conversations.Notifier
	// Watch starts observing what reaches staff of tenant (an SSE client
	// connected as that viewer, a device token registered for them at a
	// fake push service, ...). The suite calls it before notifying that
	// recipient. Required.
	Watch func(t *testing.T, tenant conversations.TenantID, staff conversations.StaffID) Watcher
	// Break makes every later Notify fail in the backend (a database or
	// push service that is down). Nil skips the scenario.
	Break func()
	// Stall makes every later Notify block in the backend until its
	// context ends (a push service that never answers). Nil skips the
	// scenario.
	Stall func()
}

// Watcher observes what is delivered to one recipient, in order.
type Watcher interface {
	// Next waits for the next delivery, or returns ctx's error.
	Next(ctx context.Context) (Delivery, error)
}

// Delivery is what the suite checks of a delivered notification: every
// Notifier conveys at least these.
type Delivery struct {
	Type   conversations.EventType
	Thread conversations.ThreadID
	Badge  int64
	// Shown and Alert, for a Notifier that Shows: whether the delivery
	// shows something (and sounds), and all the text it shows.
	Shown bool
	Alert string
}

// Run runs every scenario against fresh backends from h. A failure names
// the rule it broke.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("notifytest: Harness.New is required")
	}
	if h.Timeout <= 0 {
		h.Timeout = 10 * time.Second
	}
	if h.Quiet <= 0 {
		h.Quiet = 200 * time.Millisecond
	}
	for _, sc := range []struct {
		name string
		run  func(*testing.T, Harness)
	}{
		{"RightRecipientOnly", rightRecipientOnly},
		{"CancelledContext", cancelledContext},
		{"StalledBackendHonoursContext", stalledBackend},
		{"ConcurrentUse", concurrentUse},
		{"FailingBackendReturnsError", failingBackend},
		{"HonoursPreferences", honoursPreferences},
		{"Batch", batch},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t, h)
		})
	}
}

type who struct {
	tenant conversations.TenantID
	staff  conversations.StaffID
}

func newBackend(t *testing.T, h Harness) *Backend {
	t.Helper()
	b := h.New(t)
	if b == nil || b.Notifier == nil || b.Watch == nil {
		t.Fatal("notifytest: Harness.New must return a Backend with a Notifier and Watch")
	}
	return b
}

// watchSamePeople watches three recipients of b: two of one business, and
// one of another with the same staff id as the first.
func watchSamePeople(t *testing.T, b *Backend) ([]who, []Watcher) {
	t1, t2 := conversations.NewID[conversations.TenantID](), conversations.NewID[conversations.TenantID]()
	people := []who{{t1, "dana"}, {t1, "tom"}, {t2, "dana"}}
	watchers := make([]Watcher, len(people))
	for i, p := range people {
		watchers[i] = b.Watch(t, p.tenant, p.staff)
	}
	return people, watchers
}

func note(w who, thread string, badge int64) conversations.Notification {
	return conversations.Notification{
		Tenant: w.tenant, Recipient: w.staff, Type: conversations.EventMessage,
		Thread: conversations.ThreadID(thread), Badge: badge, At: time.Now().UTC(),
	}
}

// notifyNoPanic calls Notify, turning a panic into a failure of rule.
func notifyNoPanic(t *testing.T, ctx context.Context, rule string, n conversations.Notifier, msg conversations.Notification) (err error) {
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("rule %q broken: Notify panicked: %v", rule, p)
			err = fmt.Errorf("notifytest: panic: %v", p)
		}
	}()
	return n.Notify(ctx, msg)
}

// Rule: a notification reaches its recipient, and no one else, not even the
// same staff id in another business.
func rightRecipientOnly(t *testing.T, h Harness) {
	const rule = "delivers to the right recipient only"
	b := newBackend(t, h)
	people, watchers := watchSamePeople(t, b)
	const rounds = 3
	ctx := context.Background()
	for r := range rounds {
		for _, p := range people {
			th := fmt.Sprintf("%s-%s-%d", p.tenant, p.staff, r)
			if err := notifyNoPanic(t, ctx, rule, b.Notifier, note(p, th, int64(r+1))); err != nil {
				t.Fatalf("rule %q broken: Notify: %v", rule, err)
			}
		}
	}
	for i, p := range people {
		for r := range rounds {
			d, err := next(watchers[i], h.Timeout)
			if err != nil {
				t.Fatalf("rule %q broken: %s/%s got %d of %d notifications: %v", rule, p.tenant, p.staff, r, rounds, err)
			}
			want := Delivery{Type: conversations.EventMessage, Thread: conversations.ThreadID(fmt.Sprintf("%s-%s-%d", p.tenant, p.staff, r)), Badge: int64(r + 1)}
			if d.Type != want.Type || d.Thread != want.Thread || d.Badge != want.Badge {
				t.Errorf("rule %q broken: %s/%s: delivery %d is %+v, want %+v", rule, p.tenant, p.staff, r, d, want)
			}
		}
	}
	for i, p := range people {
		if d, err := next(watchers[i], h.Quiet); err == nil {
			t.Errorf("rule %q broken: %s/%s got an extra delivery %+v", rule, p.tenant, p.staff, d)
		}
	}
}

// Rule: Notify with a cancelled context returns promptly, with an error
// that wraps the context's.
func cancelledContext(t *testing.T, h Harness) {
	const rule = "honours a cancelled context"
	b := newBackend(t, h)
	p := who{conversations.NewID[conversations.TenantID](), "dana"}
	b.Watch(t, p.tenant, p.staff)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	err := notifyNoPanic(t, ctx, rule, b.Notifier, note(p, "th", 1))
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("rule %q broken: Notify took %v with a cancelled context", rule, took)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("rule %q broken: Notify returned %v, want an error wrapping context.Canceled", rule, err)
	}
}

// Rule: a backend that does not answer does not hold Notify past its
// context's deadline.
func stalledBackend(t *testing.T, h Harness) {
	const rule = "honours ctx while the backend stalls"
	b := newBackend(t, h)
	if b.Stall == nil {
		t.Skip("notifytest: the harness cannot stall its backend")
	}
	p := who{conversations.NewID[conversations.TenantID](), "dana"}
	b.Watch(t, p.tenant, p.staff)
	b.Stall()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- notifyNoPanic(t, ctx, rule, b.Notifier, note(p, "th", 1)) }()
	select {
	case err := <-done:
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("rule %q broken: Notify returned %v after the deadline", rule, took)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("rule %q broken: Notify returned %v, want an error wrapping context.DeadlineExceeded", rule, err)
		}
	case <-time.After(h.Timeout):
		t.Fatalf("rule %q broken: Notify still blocked %v after its deadline", rule, h.Timeout)
	}
}

// Rule: Notify is safe for concurrent use, and concurrent calls all deliver.
func concurrentUse(t *testing.T, h Harness) {
	const rule = "safe for concurrent use"
	b := newBackend(t, h)
	tenant := conversations.NewID[conversations.TenantID]()
	people := []who{{tenant, "dana"}, {tenant, "tom"}}
	watchers := make([]Watcher, len(people))
	for i, p := range people {
		watchers[i] = b.Watch(t, p.tenant, p.staff)
	}
	const goroutines, each = 8, 4
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each*len(people))
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				for _, p := range people {
					if err := notifyNoPanic(t, context.Background(), rule, b.Notifier, note(p, fmt.Sprintf("%s-%d-%d", p.staff, g, i), 1)); err != nil {
						errs <- err
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("rule %q broken: concurrent Notify: %v", rule, err)
	}
	for i, p := range people {
		var got, want []string
		for g := range goroutines {
			for j := range each {
				want = append(want, fmt.Sprintf("%s-%d-%d", p.staff, g, j))
			}
		}
		for range want {
			d, err := next(watchers[i], h.Timeout)
			if err != nil {
				t.Fatalf("rule %q broken: %s got %d of %d concurrent notifications: %v", rule, p.staff, len(got), len(want), err)
			}
			got = append(got, string(d.Thread))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("rule %q broken: %s got %v, want %v", rule, p.staff, got, want)
		}
	}
}

// Rule: a failing backend makes Notify return an error; it never panics
// and never reports success.
func failingBackend(t *testing.T, h Harness) {
	const rule = "returns an error on a failing backend"
	b := newBackend(t, h)
	if b.Break == nil {
		t.Skip("notifytest: the harness cannot break its backend")
	}
	p := who{conversations.NewID[conversations.TenantID](), "dana"}
	b.Watch(t, p.tenant, p.staff)
	b.Break()
	ctx, cancel := context.WithTimeout(context.Background(), h.Timeout)
	defer cancel()
	if err := notifyNoPanic(t, ctx, rule, b.Notifier, note(p, "th", 1)); err == nil {
		t.Errorf("rule %q broken: Notify returned nil with its backend down", rule)
	}
}

// Rule: a batch (conversations.NotifyBatch: one call to a
// conversations.BatchNotifier, else one Notify each) delivers as Notify of
// each would: every recipient gets theirs, in order, and nobody else's; a
// batch holding an invalid notification returns an error.
func batch(t *testing.T, h Harness) {
	const rule = "a batch delivers as Notify of each"
	b := newBackend(t, h)
	people, watchers := watchSamePeople(t, b)
	var ns []conversations.Notification
	const each = 3
	for r := range each {
		for _, p := range people {
			ns = append(ns, note(p, fmt.Sprintf("%s-%s-%d", p.tenant, p.staff, r), int64(r+1)))
		}
	}
	if err := batchNoPanic(t, context.Background(), rule, b.Notifier, ns); err != nil {
		t.Fatalf("rule %q broken: NotifyBatch: %v", rule, err)
	}
	for i, p := range people {
		for r := range each {
			d, err := next(watchers[i], h.Timeout)
			if err != nil {
				t.Fatalf("rule %q broken: %s/%s got %d of %d notifications: %v", rule, p.tenant, p.staff, r, each, err)
			}
			if want := conversations.ThreadID(fmt.Sprintf("%s-%s-%d", p.tenant, p.staff, r)); d.Thread != want || d.Badge != int64(r+1) {
				t.Errorf("rule %q broken: %s/%s: delivery %d is %+v, want thread %s badge %d", rule, p.tenant, p.staff, r, d, want, r+1)
			}
		}
		if d, err := next(watchers[i], h.Quiet); err == nil {
			t.Errorf("rule %q broken: %s/%s got an extra delivery %+v", rule, p.tenant, p.staff, d)
		}
	}
	bad := []conversations.Notification{note(people[0], "ok", 1), {Tenant: people[0].tenant, Type: conversations.EventMessage, Thread: "no-recipient"}}
	if err := batchNoPanic(t, context.Background(), rule, b.Notifier, bad); err == nil {
		t.Errorf("rule %q broken: a batch with a notification for nobody returned nil", rule)
	}
}

// batchNoPanic calls conversations.NotifyBatch, turning a panic into a
// failure of rule.
func batchNoPanic(t *testing.T, ctx context.Context, rule string, n conversations.Notifier, ns []conversations.Notification) (err error) {
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("rule %q broken: NotifyBatch panicked: %v", rule, p)
			err = fmt.Errorf("notifytest: panic: %v", p)
		}
	}()
	return conversations.NotifyBatch(ctx, n, ns)
}

func next(w Watcher, timeout time.Duration) (Delivery, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return w.Next(ctx)
}

// Rule: a push honours its recipient's preferences: a Silent notification
// shows nothing (but still carries the badge), a hidden preview shows
// nothing of the message's text, a full one does.
func honoursPreferences(t *testing.T, h Harness) {
	const rule = "honours the recipient's preferences"
	if !h.Shows {
		t.Skip("the Notifier shows nothing on a phone (Harness.Shows is false)")
	}
	b := newBackend(t, h)
	w := who{conversations.TenantID("t-" + conversations.NewID[string]()), conversations.StaffID("s-" + conversations.NewID[string]())}
	watch := b.Watch(t, w.tenant, w.staff)
	const secret = "the gate code is 4412"
	msg := func(badge int64, edit func(*conversations.Notification)) Delivery {
		t.Helper()
		n := note(w, "th-prefs", badge)
		n.Message = &conversations.Message{
			ID: conversations.NewID[conversations.MessageID](), Tenant: w.tenant, Thread: "th-prefs",
			Kind: conversations.KindCustomerSMS, Direction: conversations.DirectionInbound, Channel: conversations.ChannelSMS,
			AuthorType: conversations.AuthorCustomer, Body: secret, From: "+15005550199", Status: conversations.StatusReceived,
		}
		edit(&n)
		if err := notifyNoPanic(t, context.Background(), rule, b.Notifier, n); err != nil {
			t.Fatalf("rule %q broken: Notify: %v", rule, err)
		}
		d, err := next(watch, h.Timeout)
		if err != nil {
			t.Fatalf("rule %q broken: a notification must still be delivered (the badge): %v", rule, err)
		}
		if d.Badge != badge {
			t.Errorf("rule %q broken: badge %d, want %d", rule, d.Badge, badge)
		}
		return d
	}
	if d := msg(1, func(*conversations.Notification) {}); !d.Shown || !strings.Contains(d.Alert, secret) {
		t.Errorf("rule %q broken: a full preview shows the text: got shown=%v %q", rule, d.Shown, d.Alert)
	}
	if d := msg(2, func(n *conversations.Notification) { n.Preview = conversations.PreviewHidden }); !d.Shown ||
		strings.Contains(d.Alert, secret) || strings.Contains(d.Alert, "+15005550199") {
		t.Errorf("rule %q broken: a hidden preview shows that a message came, nothing of it or its sender: got shown=%v %q", rule, d.Shown, d.Alert)
	}
	if d := msg(3, func(n *conversations.Notification) { n.Silent = true }); d.Shown {
		t.Errorf("rule %q broken: a silent notification (muted, quiet hours) shows nothing: got %q", rule, d.Alert)
	}
}
