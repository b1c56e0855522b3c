package channeltest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/channel/channeltest"
	"github.com/fieldtalk/fieldtalk/conversations"
)

func validOutbound() conversations.Outbound {
	return conversations.Outbound{
		Tenant: "tenant-1", Thread: "thread-1", Channel: conversations.ChannelSMS,
		From: "+15005550006", To: "+14155550100", Body: "Your technician is on the way.",
	}
}

func TestFakeConformance(t *testing.T) {
	channeltest.Run(t, channeltest.Harness{
		New: func(t *testing.T) channeltest.Setup {
			f := channeltest.NewFake(conversations.ChannelSMS)
			return channeltest.Setup{
				Channel: f, Outbound: validOutbound(),
				Inject: f.Inject, Stall: f.Stall, ProviderCalls: f.ProviderCalls,
			}
		},
		Features: channeltest.Features{Faults: true, RetryAfter: true, Stall: true, Addressed: true},
	})
}

func TestFakeScript(t *testing.T) {
	f := channeltest.NewFake("sms")
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	f.SetClock(func() time.Time { return at })
	boom := channeltest.Error(conversations.Permanent, 0)
	f.Script(
		channeltest.Result{Err: boom},
		channeltest.Result{Receipt: conversations.Receipt{ProviderID: "SM1", Status: conversations.StatusSent}},
	)
	ctx := context.Background()

	if _, err := f.Send(ctx, validOutbound()); !errors.Is(err, boom) {
		t.Fatalf("first send err = %v, want the scripted error", err)
	}
	r, err := f.Send(ctx, validOutbound())
	if err != nil || r.ProviderID != "SM1" || r.Status != conversations.StatusSent || !r.At.Equal(at) {
		t.Fatalf("second send = %+v, %v; want the scripted receipt stamped by the clock", r, err)
	}
	r, err = f.Send(ctx, validOutbound())
	if err != nil || r.ProviderID == "" || r.ProviderID == "SM1" || r.Status != conversations.StatusQueued {
		t.Fatalf("unscripted send = %+v, %v; want a fresh queued receipt", r, err)
	}
	bad := validOutbound()
	bad.To = ""
	if _, err := f.Send(ctx, bad); !errors.Is(err, conversations.ErrInvalid) {
		t.Fatalf("invalid send err = %v, want ErrInvalid", err)
	}

	calls := f.Calls()
	if len(calls) != 4 {
		t.Fatalf("Calls() has %d entries, want 4 (every Send is recorded)", len(calls))
	}
	if calls[3].Provider {
		t.Errorf("an invalid send must not count as a provider call")
	}
	if got := f.ProviderCalls(); got != 3 {
		t.Errorf("ProviderCalls() = %d, want 3", got)
	}
	if got := len(f.Sent()); got != 2 {
		t.Errorf("Sent() has %d messages, want the 2 accepted ones", got)
	}

	u, err := f.FetchStatus(ctx, "SM1")
	if err != nil || u.Status != conversations.StatusSent {
		t.Errorf("FetchStatus(SM1) = %+v, %v; want the receipt's status", u, err)
	}
	f.SetStatus(conversations.StatusUpdate{ProviderID: "SM1", Status: conversations.StatusDelivered})
	if u, _ := f.FetchStatus(ctx, "SM1"); u.Status != conversations.StatusDelivered {
		t.Errorf("FetchStatus after SetStatus = %q, want delivered", u.Status)
	}
	if _, err := f.FetchStatus(ctx, "SMnope"); !errors.Is(err, conversations.ErrNotFound) {
		t.Errorf("FetchStatus(unknown) err = %v, want ErrNotFound", err)
	}
}

func TestFakeLatencyHonoursContext(t *testing.T) {
	f := channeltest.NewFake("sms")
	f.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := f.Send(ctx, validOutbound())
	var pe *conversations.ProviderError
	if !errors.As(err, &pe) || pe.Class != conversations.MaybeSent || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want a MaybeSent ProviderError wrapping DeadlineExceeded", err)
	}

	f.SetLatency(0)
	f.Script(channeltest.Result{Delay: 5 * time.Millisecond})
	if _, err := f.Send(context.Background(), validOutbound()); err != nil {
		t.Fatalf("a short scripted delay must succeed: %v", err)
	}
}

func ExampleFake() {
	f := channeltest.NewFake("sms")
	f.FailNext(1, channeltest.Error(conversations.Retryable, 30*time.Second))
	out := conversations.Outbound{Tenant: "t1", Message: "m1", To: "+14155550100", From: "+15005550006", Body: "hi"}

	_, err := f.Send(context.Background(), out)
	var pe *conversations.ProviderError
	if errors.As(err, &pe) {
		fmt.Println(pe.Class, pe.RetryAfter)
	}
	r, err := f.Send(context.Background(), out)
	fmt.Println(r.ProviderID, r.Status, err)
	fmt.Println(len(f.Calls()), len(f.Sent()))
	// Output:
	// retryable 30s
	// fake-sms-000001 queued <nil>
	// 2 1
}

func TestFakeFind(t *testing.T) {
	ctx := context.Background()
	f := channeltest.NewFake("sms")
	maybe := channeltest.Error(conversations.MaybeSent, 0)
	f.Script(
		channeltest.Result{Err: maybe},             // the provider kept it
		channeltest.Result{Err: maybe, Lost: true}, // it did not
	)

	kept := validOutbound()
	kept.Message = "m-kept"
	if _, err := f.Send(ctx, kept); !errors.Is(err, maybe) {
		t.Fatalf("send: %v, want the scripted MaybeSent", err)
	}
	r, err := f.Find(ctx, kept, time.Time{})
	if err != nil || r.ProviderID == "" {
		t.Fatalf("Find(kept) = %+v, %v; want the held message's receipt", r, err)
	}
	if u, err := f.FetchStatus(ctx, r.ProviderID); err != nil || u.Message != kept.Message {
		t.Errorf("FetchStatus(held) = %+v, %v", u, err)
	}

	lost := validOutbound()
	lost.Message = "m-lost"
	if _, err := f.Send(ctx, lost); !errors.Is(err, maybe) {
		t.Fatalf("send: %v, want the scripted MaybeSent", err)
	}
	if _, err := f.Find(ctx, lost, time.Time{}); !errors.Is(err, conversations.ErrNotFound) {
		t.Errorf("Find(lost) err = %v, want ErrNotFound", err)
	}
	if got := len(f.Sent()); got != 0 {
		t.Errorf("Sent() = %d, want 0: no send was answered with success", got)
	}
}
