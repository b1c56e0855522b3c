package console_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/channel/channeltest"
	"github.com/fieldtalk/fieldtalk/channel/console"
	"github.com/fieldtalk/fieldtalk/conversations"
)

// lines is a concurrency-safe writer that counts the lines written to it.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lines) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), "\n")
}

func sms() conversations.Outbound {
	return conversations.Outbound{
		Tenant: "tenant-1", Thread: "thread-1", Channel: conversations.ChannelSMS,
		From: "+15005550006", To: "+14155550100", Body: "Your technician is on the way.",
	}
}

func TestConformance(t *testing.T) {
	channeltest.Run(t, channeltest.Harness{
		New: func(t *testing.T) channeltest.Setup {
			w := &lines{}
			ch, err := console.New(w)
			if err != nil {
				t.Fatal(err)
			}
			return channeltest.Setup{Channel: ch, Outbound: sms(), ProviderCalls: w.count}
		},
		Features: channeltest.Features{Addressed: true},
	})
}

type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriterFailureIsRetryable(t *testing.T) {
	ch, err := console.New(brokenWriter{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ch.Send(context.Background(), sms())
	var pe *conversations.ProviderError
	if !errors.As(err, &pe) || pe.Class != conversations.Retryable {
		t.Fatalf("err = %v, want a Retryable ProviderError", err)
	}
}

func TestNewRejects(t *testing.T) {
	if _, err := console.New(nil); err == nil {
		t.Error("New(nil writer) must fail")
	}
	if _, err := console.New(&bytes.Buffer{}, console.WithRegion("XX")); !errors.Is(err, conversations.ErrInvalid) {
		t.Errorf("New with unknown region err = %v, want ErrInvalid", err)
	}
}

func TestNormalisesTo(t *testing.T) {
	var buf bytes.Buffer
	ch, _ := console.New(&buf, console.WithRegion("GB"))
	out := sms()
	out.To = "07700 900123"
	if _, err := ch.Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "-> +447700900123 ") {
		t.Errorf("line %q must show the E.164 number", buf.String())
	}
}

func ExampleChannel() {
	var out bytes.Buffer
	ch, _ := console.New(&out,
		console.WithClock(func() time.Time { return time.Date(2025, 3, 1, 14, 5, 0, 0, time.UTC) }),
		console.WithIDs(func() string { return "console-1" }),
	)
	r, _ := ch.Send(context.Background(), conversations.Outbound{
		Tenant: "acme-plumbing", Message: "msg-1", From: "+15005550006", To: "(415) 555-0100",
		Body: "Hi Dana, Sam is 10 min away.",
	})
	fmt.Print(out.String())
	fmt.Println(r.ProviderID, r.Status)
	// Output:
	// 2025-03-01T14:05:00Z SMS +15005550006 -> +14155550100 [tenant acme-plumbing, message msg-1, 1 GSM-7 segment(s), 0 media]: "Hi Dana, Sam is 10 min away."
	// console-1 sent
}
