package inapp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/channel/channeltest"
	"github.com/fieldtalk/fieldtalk/channel/inapp"
	"github.com/fieldtalk/fieldtalk/conversations"
)

func internal() conversations.Outbound {
	return conversations.Outbound{
		Tenant: "tenant-1", Thread: "thread-1", Channel: conversations.ChannelInApp,
		Body: "Can someone cover the 3pm at Elm St?",
	}
}

func TestConformance(t *testing.T) {
	channeltest.Run(t, channeltest.Harness{
		New: func(t *testing.T) channeltest.Setup {
			return channeltest.Setup{Channel: inapp.New(), Outbound: internal()}
		},
		// Nothing to fail or stall, and internal messages address a thread, not a To.
		Features: channeltest.Features{},
	})
}

func TestSendIsDeliveredAtOnce(t *testing.T) {
	at := time.Date(2025, 5, 1, 9, 30, 0, 0, time.UTC)
	ch := inapp.New(inapp.WithClock(func() time.Time { return at }))
	out := internal()
	out.Message = "msg-42"
	r, err := ch.Send(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	want := conversations.Receipt{ProviderID: "msg-42", Status: conversations.StatusDelivered, At: at}
	if r != want {
		t.Errorf("Send = %+v, want %+v", r, want)
	}
}

func TestSendRejects(t *testing.T) {
	tests := map[string]func(*conversations.Outbound){
		"no message id": func(o *conversations.Outbound) { o.Message = "" },
		"no tenant":     func(o *conversations.Outbound) { o.Tenant = "" },
		"blank body":    func(o *conversations.Outbound) { o.Body = " \n" },
		"sms channel":   func(o *conversations.Outbound) { o.Channel = conversations.ChannelSMS },
		"empty media":   func(o *conversations.Outbound) { o.Media = []conversations.Media{{}} },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			out := internal()
			out.Message = "m1"
			mutate(&out)
			if _, err := inapp.New().Send(context.Background(), out); !errors.Is(err, conversations.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
}
