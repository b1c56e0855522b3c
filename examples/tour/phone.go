package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// transcript is where the tour writes; the phones write to it from the
// goroutines that notify them, so lines never interleave.
type transcript struct {
	mu sync.Mutex
	w  io.Writer
}

func (t *transcript) printf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, format+"\n", args...)
}

// clock is the tour's time: each scene sets it, and every reading within
// a scene (the Service's, the providers', the webhooks') gets that time,
// whatever goroutine reads it, so the transcript is the same on every run.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// at moves the clock to hh:mm:ss on the tour's day.
func (c *clock) at(hh, mm, ss int) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = tourDay(hh, mm, ss)
	return c.now
}

// tourDay is hh:mm:ss on the day of the tour.
func tourDay(hh, mm, ss int) time.Time { return time.Date(2026, 11, 27, hh, mm, ss, 0, time.UTC) }

// cast names the staff, for the transcript.
type cast map[conversations.StaffID]string

// phones is the tour's Notifier: it shows what each person's phone would
// show, and counts what each received. Status reports of a message on its
// way (queued, sending) update a tick in the app and are not shown; they
// also come from the delivery queue's goroutines, at times no scene sets.
type phones struct {
	out   *transcript
	names cast

	mu       sync.Mutex
	received map[conversations.StaffID]int
}

func newPhones(out *transcript, names cast) *phones {
	return &phones{out: out, names: names, received: map[conversations.StaffID]int{}}
}

func (p *phones) Notify(_ context.Context, n conversations.Notification) error {
	p.mu.Lock()
	p.received[n.Recipient]++
	p.mu.Unlock()
	what := ""
	switch {
	case n.Type == conversations.EventMessage && n.Message != nil:
		what = "new message " + quoted(n.Message.Body)
		if n.Urgent {
			what = "URGENT " + what
		}
	case n.Type == conversations.EventStatus && n.Message != nil && n.Message.Status.Rank() >= conversations.StatusSent.Rank():
		what = fmt.Sprintf("your message %s was %s", quoted(n.Message.Body), n.Message.Status)
	default:
		return nil
	}
	p.out.printf("          [%s's phone] %s (badge %d)", p.names[n.Recipient], what, n.Badge)
	return nil
}

// count is how many notifications id's phone received.
func (p *phones) count(id conversations.StaffID) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.received[id]
}
