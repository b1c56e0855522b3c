package conversations_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
)

// The library end to end, as the README's "Using the library" shows it: a
// store, a Service, what the host's CRM pushes in, a customer's text
// arriving, and the technician's inbox.
func Example() {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite::memory:") // or "sqlite:fieldtalk.db", "postgres://..."
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	svc, err := conversations.NewService(conversations.Config{
		Store:  db,
		Policy: policy.Default(), // dispatchers/admins: all customer threads; technicians: theirs
		Jobs:   db,               // or your CRM, behind conversations.Jobs
	})
	if err != nil {
		log.Fatal(err)
	}

	// The CRM pushes staff, numbers, jobs and job assignments in.
	must(svc.PutStaff(ctx, conversations.Staff{Tenant: "acme", ID: "tom", Name: "Tom", Role: conversations.RoleTechnician}))
	must(svc.ProvisionNumber(ctx, conversations.BusinessNumber{Tenant: "acme", Number: "+15005550001", Default: true}))
	must(db.PutJob(ctx, conversations.JobContext{
		Tenant: "acme", ID: "J-1042", Title: "Water heater", Address: "12 Elm St",
		Customer: conversations.Contact{Name: "Pat Lee", Phone: "+15005550999"},
	}))
	must(svc.Assign(ctx, "acme", "J-1042", "tom"))

	// The job's thread with its customer: what the customer texts reaches
	// whoever is assigned to the job.
	tom := conversations.Viewer{Tenant: "acme", Staff: "tom", Role: conversations.RoleTechnician}
	if _, err := svc.JobThread(ctx, tom, "J-1042"); err != nil {
		log.Fatal(err)
	}

	// A webhook hands in a customer's SMS; a repeat of the same provider id is harmless.
	in := conversations.InboundMessage{
		Tenant: "acme", Channel: conversations.ChannelSMS, BusinessNumber: "+15005550001",
		From: "+15005550999", Body: "When will the tech get here?", ProviderID: "SM123",
	}
	for range 2 {
		msg, created, err := svc.Receive(ctx, in)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("received %q: seq %d, new: %v\n", msg.Body, msg.Seq, created)
	}

	// The mobile app lists the inbox for the person signed in.
	page, err := svc.Inbox(ctx, tom, conversations.InboxQuery{Filter: conversations.FilterUnread})
	if err != nil {
		log.Fatal(err)
	}
	badge, err := svc.Badge(ctx, tom)
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range page.Threads {
		fmt.Printf("Tom's inbox: %s (%s), %d unread: %q\n", t.Contact.Name, t.Contact.Phone, t.Unread, t.Preview)
	}
	fmt.Println("Tom's badge:", badge)
	// Output:
	// received "When will the tech get here?": seq 1, new: true
	// received "When will the tech get here?": seq 1, new: false
	// Tom's inbox: Pat Lee (+15005550999), 1 unread: "When will the tech get here?"
	// Tom's badge: 1
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// TestREADMEQuotesTheExample keeps the README's "Using the library" the
// code above, which runs: the README quotes Example's body word for word.
func TestREADMEQuotesTheExample(t *testing.T) {
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	body := s[strings.Index(s, "func Example() {\n")+len("func Example() {\n") : strings.Index(s, "\n}\n\nfunc must")]
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "\t")
	}
	if !strings.Contains(string(readme), "```go\n"+strings.Join(lines, "\n")+"\n```") {
		t.Error("README.md's \"Using the library\" is not Example's body: copy it again")
	}
}
