// Command tour runs a day in the field on a temporary SQLite database and
// prints a readable transcript of what each person sees. It needs no
// accounts and no network:
//
//	go run ./examples/tour
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		os.Exit(1)
	}
}

// printer is a Notifier that prints what each person's phone would show.
type printer struct {
	mu    sync.Mutex
	w     io.Writer
	names map[conversations.StaffID]string
}

func (p *printer) Notify(_ context.Context, n conversations.Notification) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	what := string(n.Type)
	if n.Message != nil {
		what = fmt.Sprintf("%s %q", n.Type, n.Message.Body)
	}
	fmt.Fprintf(p.w, "    [push → %s] %s (badge %d)\n", p.names[n.Recipient], what, n.Badge)
	return nil
}

// tourClock starts at 8:00 on a weekday morning and moves a few seconds per reading.
type tourClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *tourClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(7 * time.Second)
	return c.now
}

func run(ctx context.Context, w io.Writer) error {
	dir, err := os.MkdirTemp("", "fieldtalk-tour-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "tour.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}

	const tenant = conversations.TenantID("acme-plumbing")
	names := map[conversations.StaffID]string{}
	push := &printer{w: w, names: names}
	clock := &tourClock{now: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)}
	svc, err := conversations.NewService(conversations.Config{
		Store: db, Policy: policy.Default(), Notifier: push, Jobs: db, Clock: clock.Now,
	})
	if err != nil {
		return err
	}

	say := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	staff := func(id, name string, role conversations.Role) (conversations.Viewer, error) {
		names[conversations.StaffID(id)] = name
		st := conversations.Staff{Tenant: tenant, ID: conversations.StaffID(id), Name: name, Role: role}
		return st.Viewer(), svc.PutStaff(ctx, st)
	}
	dana, err := staff("dana", "Dana (dispatcher)", conversations.RoleDispatcher)
	if err != nil {
		return err
	}
	tom, err := staff("tom", "Tom (technician)", conversations.RoleTechnician)
	if err != nil {
		return err
	}
	tara, err := staff("tara", "Tara (technician)", conversations.RoleTechnician)
	if err != nil {
		return err
	}
	const number, customer = "+15005550001", "+15005550999"
	if err := svc.ProvisionNumber(ctx, conversations.BusinessNumber{Tenant: tenant, Number: number, Default: true}); err != nil {
		return err
	}
	if err := db.PutJob(ctx, conversations.JobContext{
		Tenant: tenant, ID: "J-1042", Title: "Water heater replacement", Address: "12 Elm St",
		WindowStart: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), WindowEnd: time.Date(2026, 11, 27, 11, 0, 0, 0, time.UTC),
		Customer: conversations.Contact{Name: "Pat Lee", Phone: customer},
	}); err != nil {
		return err
	}
	if err := svc.Assign(ctx, tenant, "J-1042", tom.Staff); err != nil {
		return err
	}
	say("Acme Plumbing: Dana dispatches; Tom is assigned to job J-1042 (Pat Lee, 12 Elm St); Tara is not.")
	say("The business texts from its provisioned number %s.\n", number)

	say("08:00  Tom opens job J-1042 and starts the thread with the customer.")
	th, err := svc.JobThread(ctx, tom, "J-1042")
	if err != nil {
		return err
	}
	say("       thread with %s via %s, linked to %v\n", th.Contact.Phone, th.BusinessNumber, th.Jobs)

	say("08:01  Pat texts the business number.")
	in := conversations.InboundMessage{
		Tenant: tenant, Channel: conversations.ChannelSMS, BusinessNumber: number, From: customer,
		Body: "Hi, when will the tech get here?", ProviderID: "SM0001",
	}
	m, _, err := svc.Receive(ctx, in)
	if err != nil {
		return err
	}
	_, created, err := svc.Receive(ctx, in)
	if err != nil {
		return err
	}
	say("       the provider repeats the webhook: a second message created? %v", created)
	if err := showInbox(ctx, w, svc, tom, names); err != nil {
		return err
	}
	if err := showInbox(ctx, w, svc, dana, names); err != nil {
		return err
	}

	say("\n08:02  Tom reads the thread.")
	if _, err := svc.MarkRead(ctx, tom, m.Thread, 0); err != nil {
		return err
	}
	if err := showBadge(ctx, w, svc, tom, names); err != nil {
		return err
	}

	say("\n08:03  Tom drafts a reply in a basement with no signal; the draft is kept.")
	d, err := svc.SaveDraft(ctx, tom, conversations.Draft{Thread: m.Thread, Body: "Running 10 min late, there by 9:10"})
	if err != nil {
		return err
	}
	drafts, err := svc.Drafts(ctx, tom)
	if err != nil {
		return err
	}
	say("       Tom's drafts on every device: %d (client id %s…)", len(drafts), d.ClientID[:8])

	say("\n08:04  Dana asks Tom about parts, in an internal thread.")
	internal, err := svc.StartInternal(ctx, dana, conversations.StartInternal{Participants: []conversations.StaffID{tom.Staff}, Subject: "J-1042 parts", Job: "J-1042"})
	if err != nil {
		return err
	}
	if _, err := svc.SendInternal(ctx, dana, conversations.SendInternal{Thread: internal.ID, Body: "Do you have the 40 gal unit on the truck?", ClientID: "dana-phone/1"}); err != nil {
		return err
	}
	if err := showInbox(ctx, w, svc, tom, names); err != nil {
		return err
	}

	say("\n08:05  Tara, not on the job, sees none of it.")
	if err := showInbox(ctx, w, svc, tara, names); err != nil {
		return err
	}
	_, err = svc.Thread(ctx, tara, m.Thread)
	if !errors.Is(err, conversations.ErrForbidden) {
		return fmt.Errorf("Tara opened a thread she may not see: %v", err)
	}
	say("       opening Pat's thread anyway: forbidden (%v)", err)
	return nil
}

func showInbox(ctx context.Context, w io.Writer, svc *conversations.Service, v conversations.Viewer, names map[conversations.StaffID]string) error {
	page, err := svc.Inbox(ctx, v, conversations.InboxQuery{})
	if err != nil {
		return err
	}
	b, err := svc.Badge(ctx, v)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "       %s's inbox (badge %d):", names[v.Staff], b)
	if len(page.Threads) == 0 {
		fmt.Fprintln(w, " empty")
		return nil
	}
	fmt.Fprintln(w)
	for _, t := range page.Threads {
		who := t.Contact.Phone
		if t.Kind == conversations.ThreadInternal {
			who = "internal: " + t.Subject
		}
		fmt.Fprintf(w, "         %-24s %-45q unread %d  %s\n", who, t.Preview, t.Unread, t.LastMessageAt.Format("15:04:05"))
	}
	return nil
}

func showBadge(ctx context.Context, w io.Writer, svc *conversations.Service, v conversations.Viewer, names map[conversations.StaffID]string) error {
	b, err := svc.Badge(ctx, v)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "       %s's badge: %d\n", strings.TrimSpace(names[v.Staff]), b)
	return nil
}
