package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/notify"
)

// printer is a Notifier that prints what it is told.
type printer string

func (p printer) Notify(_ context.Context, n conversations.Notification) error {
	fmt.Printf("%s: %s in %s, badge %d\n", p, n.Type, n.Thread, n.Badge)
	return nil
}

type broken struct{}

func (broken) Notify(context.Context, conversations.Notification) error {
	return fmt.Errorf("gateway down: %w", conversations.ErrUnavailable)
}

func ExampleFanOut() {
	// In a host: notify.New(hub, fcm), and the Service's Config.Notifier.
	fan, _ := notify.New(printer("stream"))
	err := fan.Notify(context.Background(), conversations.Notification{
		Tenant: "acme", Recipient: "dana", Type: conversations.EventMessage, Thread: "th-1", Badge: 3,
	})
	fmt.Println(err)

	// One failing Notifier does not stop the others; its error comes back.
	fan, _ = notify.New(broken{}, printer("push"))
	err = fan.Notify(context.Background(), conversations.Notification{
		Tenant: "acme", Recipient: "dana", Type: conversations.EventRead, Thread: "th-1",
	})
	fmt.Println(errors.Is(err, conversations.ErrUnavailable))
	// Output:
	// stream: message in th-1, badge 3
	// <nil>
	// push: read in th-1, badge 0
	// true
}

func ExampleNewPayload() {
	n := conversations.Notification{
		ID: "0000000000000007", Tenant: "acme", Recipient: "dana", Type: conversations.EventMessage,
		Thread: "th-1", Badge: 2, At: time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC),
		Message: &conversations.Message{
			ID: "m-9", Seq: 4, Kind: conversations.KindCustomerSMS, Direction: conversations.DirectionInbound,
			Channel: conversations.ChannelSMS, AuthorType: conversations.AuthorCustomer, Body: "Gate code is 4321",
			Status: conversations.StatusReceived, From: "+15005550101", ProviderID: "SM123",
		},
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(notify.NewPayload(n))
	// Output:
	// {
	//   "id": "0000000000000007",
	//   "tenant": "acme",
	//   "recipient": "dana",
	//   "type": "message",
	//   "thread": "th-1",
	//   "message": {
	//     "id": "m-9",
	//     "seq": 4,
	//     "kind": "customer_sms",
	//     "direction": "inbound",
	//     "channel": "sms",
	//     "author_type": "customer",
	//     "body": "Gate code is 4321",
	//     "status": "received"
	//   },
	//   "badge": 2,
	//   "at": "2026-05-01T09:30:00Z"
	// }
}
