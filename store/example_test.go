package store_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
)

// An inbound SMS lands in its customer thread and shows up, unread, in a
// dispatcher's inbox and badge; reading it clears the badge.
func Example() {
	dir, err := os.MkdirTemp("", "fieldtalk-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "fieldtalk.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	dispatcher := conversations.Staff{Tenant: "acme-plumbing", ID: "dana", Name: "Dana", Role: conversations.RoleDispatcher}
	if err := db.PutStaff(ctx, dispatcher); err != nil {
		log.Fatal(err)
	}
	thread, created, err := db.CustomerThread(ctx, conversations.Thread{
		Tenant:         "acme-plumbing",
		BusinessNumber: "+15005550006",
		Contact:        conversations.Contact{Phone: "+15005550001", Name: "Pat"},
	})
	if err != nil {
		log.Fatal(err)
	}
	msg, _, err := db.AppendMessage(ctx, conversations.Message{
		Tenant: "acme-plumbing", Thread: thread.ID,
		Kind: conversations.KindCustomerSMS, Direction: conversations.DirectionInbound,
		Channel: conversations.ChannelSMS, AuthorType: conversations.AuthorCustomer,
		Body: "Is the plumber still coming today?", Source: conversations.SourceProvider,
		From: "+15005550001", To: "+15005550006", ProviderID: "SM123",
		CreatedAt: time.Date(2024, 6, 1, 9, 30, 0, 0, time.UTC), Status: conversations.StatusReceived,
	})
	if err != nil {
		log.Fatal(err)
	}

	scope := policy.Default().Scope(dispatcher.Viewer())
	page, err := db.Inbox(ctx, scope, conversations.InboxQuery{})
	if err != nil {
		log.Fatal(err)
	}
	badge, _ := db.Badge(ctx, scope)
	fmt.Println("created:", created)
	fmt.Printf("inbox: %s %q unread=%d\n", page.Threads[0].Contact.Name, page.Threads[0].Preview, page.Threads[0].Unread)
	fmt.Println("badge:", badge)

	if _, err := db.MarkRead(ctx, "acme-plumbing", "dana", thread.ID, msg.Seq); err != nil {
		log.Fatal(err)
	}
	badge, _ = db.Badge(ctx, scope)
	fmt.Println("badge after reading:", badge)
	// Output:
	// created: true
	// inbox: Pat "Is the plumber still coming today?" unread=1
	// badge: 1
	// badge after reading: 0
}
