// Command hooksonly is a host that runs only the parts of fieldtalk that
// need no signed-in person: Sync (the CRM pushes its records in), Hooks (a
// provider's inbound webhook and the host's automated workflow messages) and
// Worker (the delivery queue). It has no Suggester, no Jobs, no App: each
// part's constructor takes only what that part uses.
//
// Compare examples/server, which builds the one-stop conversations.Service
// (every part over one core) with fx. Here the wiring is plain Go:
//
//	ob, _ := outbox.New(ctx, db)
//	hooks, _ := conversations.NewHooks(conversations.HooksConfig{Store: ob.Store(), Policy: policy.Default()})
//	worker, _ := conversations.NewWorker(conversations.WorkerConfig{Store: db, Policy: policy.Default(), Channels: chs})
//	ob.Start(ctx, worker)
//
// HooksConfig.Store is a conversations.QueueStore: handing it the plain
// *store.DB does not compile, because Hooks queues work (a workflow
// message's delivery) in the transaction that stores the message.
//
// Run it with `go run ./examples/hooksonly`: it files an inbound SMS, sends a
// workflow reply through the queue, and prints what happened.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
	"github.com/fieldtalk/fieldtalk/store/outbox"
)

func main() {
	dir, err := os.MkdirTemp("", "hooksonly")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	if err := run(context.Background(), filepath.Join(dir, "hooks.db"), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hooksonly:", err)
		os.Exit(1)
	}
}

// printer is the SMS channel of this example: it prints what it would send.
type printer struct {
	mu   sync.Mutex
	w    io.Writer
	sent chan struct{}
}

func (p *printer) Name() string { return conversations.ChannelSMS }

func (p *printer) Send(_ context.Context, out conversations.Outbound) (conversations.Receipt, error) {
	p.mu.Lock()
	fmt.Fprintf(p.w, "sms %s -> %s: %s\n", out.From, out.To, out.Body)
	p.mu.Unlock()
	p.sent <- struct{}{}
	return conversations.Receipt{ProviderID: "demo-" + string(out.Message), Status: conversations.StatusSent, At: time.Now()}, nil
}

func run(ctx context.Context, path string, w io.Writer) error {
	db, err := store.Open(ctx, "sqlite:"+path)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	ob, err := outbox.New(ctx, db, outbox.WithPollInterval(20*time.Millisecond))
	if err != nil {
		return err
	}
	if err := ob.Migrate(ctx); err != nil {
		return err
	}

	// Each part takes only what it uses.
	crm, err := conversations.NewSync(conversations.SyncConfig{Store: db, Policy: policy.Default()})
	if err != nil {
		return err
	}
	hooks, err := conversations.NewHooks(conversations.HooksConfig{Store: ob.Store(), Policy: policy.Default()})
	if err != nil {
		return err
	}
	sms := &printer{w: w, sent: make(chan struct{}, 1)}
	worker, err := conversations.NewWorker(conversations.WorkerConfig{
		Store: db, Policy: policy.Default(), Channels: []conversations.Channel{sms},
	})
	if err != nil {
		return err
	}
	if err := ob.Start(ctx, worker); err != nil {
		return err
	}
	defer ob.Stop(context.WithoutCancel(ctx))

	const tenant, number, customer = "acme-plumbing", "+14155550100", "+14155550142"
	if err := crm.ProvisionNumber(ctx, conversations.BusinessNumber{Tenant: tenant, Number: number, Default: true}); err != nil {
		return err
	}

	// The provider's inbound webhook: the business is the number's.
	in, created, err := hooks.Receive(ctx, conversations.InboundMessage{
		Channel: conversations.ChannelSMS, BusinessNumber: number, From: customer,
		Body: "Is Sam still coming today?", ProviderID: "SM1", ReceivedAt: time.Now(),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "received for %s: %q (new: %v)\n", in.Tenant, in.Body, created)

	// The host's workflow engine answers through the queue.
	out, err := hooks.SendWorkflow(ctx, conversations.WorkflowMessage{
		Tenant: tenant, Channel: conversations.ChannelSMS, Contact: conversations.Contact{Phone: customer},
		Body: "Yes: Sam arrives between 2 and 4 PM.", Key: "run-1/step-1",
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "workflow message %s, same thread: %v\n", out.Status, out.Thread == in.Thread)

	select {
	case <-sms.sent:
	case <-time.After(30 * time.Second):
		return fmt.Errorf("the worker did not deliver within 30s")
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		m, err := db.GetMessage(ctx, tenant, out.ID)
		if err != nil {
			return err
		}
		if m.Status == conversations.StatusSent {
			fmt.Fprintf(w, "delivered: %s\n", m.Status)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the message is still %s", m.Status)
		}
	}
}
