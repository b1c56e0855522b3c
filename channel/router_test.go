package channel_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/fieldtalk/fieldtalk/channel"
	"github.com/fieldtalk/fieldtalk/channel/channeltest"
	"github.com/fieldtalk/fieldtalk/conversations"
)

func TestRouter(t *testing.T) {
	sms, inapp := channeltest.NewFake("sms"), channeltest.NewFake("inapp")
	r, err := channel.NewRouter(sms, inapp)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Names(); !slices.Equal(got, []string{"inapp", "sms"}) {
		t.Errorf("Names() = %v", got)
	}
	got, err := r.Lookup("sms")
	if err != nil || got != conversations.Channel(sms) {
		t.Errorf("Lookup(sms) = %v, %v; want the sms channel", got, err)
	}
	if _, err := r.Lookup("fax"); !errors.Is(err, conversations.ErrInvalid) {
		t.Errorf("Lookup(unknown) err = %v, want ErrInvalid", err)
	}
	if err := r.Register(channeltest.NewFake("sms")); !errors.Is(err, conversations.ErrConflict) {
		t.Errorf("Register(duplicate) err = %v, want ErrConflict", err)
	}
	if err := r.Register(channeltest.NewFake("")); !errors.Is(err, conversations.ErrInvalid) {
		t.Errorf("Register(empty name) err = %v, want ErrInvalid", err)
	}
	if err := r.Register(nil); !errors.Is(err, conversations.ErrInvalid) {
		t.Errorf("Register(nil) err = %v, want ErrInvalid", err)
	}

	out := conversations.Outbound{
		Tenant: "t1", Message: "m1", Channel: "inapp", To: "staff-1", Body: "hi",
	}
	if _, err := r.Send(context.Background(), out); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if n := len(inapp.Sent()); n != 1 {
		t.Errorf("inapp got %d messages, want 1", n)
	}
	if n := len(sms.Sent()); n != 0 {
		t.Errorf("sms got %d messages, want 0", n)
	}
	out.Channel = "carrier-pigeon"
	if _, err := r.Send(context.Background(), out); !errors.Is(err, conversations.ErrInvalid) {
		t.Errorf("Send to unknown channel err = %v, want ErrInvalid", err)
	}
}

func TestRouterZeroValue(t *testing.T) {
	var r channel.Router
	if _, err := r.Lookup("sms"); !errors.Is(err, conversations.ErrInvalid) {
		t.Errorf("empty Router Lookup err = %v, want ErrInvalid", err)
	}
	if err := r.Register(channeltest.NewFake("sms")); err != nil {
		t.Fatalf("zero Router must accept Register: %v", err)
	}
}
