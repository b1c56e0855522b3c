package conversations_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/channel/channeltest"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
)

// flowWorld is a business with SMS and email channels, a settable clock,
// and a Timeline.
type flowWorld struct {
	*world
	outbox *memOutbox
	sms    *channeltest.Fake
	email  *channeltest.Fake
	clock  *clock
	sender string
}

func newFlowWorld(t *testing.T, db *store.DB, inStore bool, timeline conversations.Timeline) *flowWorld {
	t.Helper()
	w := newWorld(t, db)
	fw := &flowWorld{world: w, outbox: &memOutbox{}, sms: channeltest.NewFake(conversations.ChannelSMS),
		email: channeltest.NewFake(conversations.ChannelEmail), clock: &clock{now: time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)},
		sender: "dispatch@" + string(w.tenant)[:8] + ".example.com"}
	svc, err := conversations.NewService(conversations.Config{
		Store: newMemQueue(db, fw.outbox), Policy: policy.Default(), Notifier: w.notes, Jobs: db, StoreTimeline: inStore, Timeline: timeline, Clock: fw.clock.Now,
		Channels: []conversations.Channel{fw.sms, fw.email},
	})
	require.NoError(t, err)
	w.svc = svc
	require.NoError(t, svc.ProvisionNumber(context.Background(), conversations.BusinessNumber{
		Tenant: w.tenant, Number: fw.sender, Channel: conversations.ChannelEmail, Default: true}))
	return fw
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (w *flowWorld) deliverAll(t *testing.T) []error {
	t.Helper()
	var errs []error
	for _, d := range w.outbox.deliveries() {
		errs = append(errs, w.svc.Deliver(context.Background(), conversations.DeliverAttempt{Kind: d.Kind, Tenant: d.Tenant, Message: d.Message, Attempt: 1}))
	}
	return errs
}

func TestWorkflowSMSWaitsOutQuietHours(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newFlowWorld(t, db, false, nil)
		chicago, err := time.LoadLocation("America/Chicago")
		require.NoError(t, err)
		require.NoError(t, w.svc.PutSettings(ctx, conversations.Settings{Tenant: w.tenant, Name: "Acme Plumbing",
			Quiet: conversations.QuietHours{Start: "21:00", End: "08:00", TimeZone: "America/Chicago"}}))
		w.clock.set(time.Date(2026, 11, 27, 22, 30, 0, 0, chicago))

		m, err := w.svc.SendWorkflow(ctx, conversations.WorkflowMessage{Tenant: w.tenant, Channel: conversations.ChannelSMS,
			Contact: conversations.Contact{Phone: "+15005550999", Name: "Pat Lee"}, Body: "Your invoice is ready", Key: "run-1/invoice"})
		require.NoError(t, err)
		assert.Equal(t, conversations.KindWorkflow, m.Kind)
		assert.Equal(t, conversations.AuthorSystem, m.AuthorType)
		assert.Equal(t, conversations.SourceWorkflow, m.Source)
		assert.Equal(t, w.number, m.From, "automated SMS go from the business's number")
		ds := w.outbox.deliveries()
		require.Len(t, ds, 1)
		open := time.Date(2026, 11, 28, 8, 0, 0, 0, chicago)
		assert.True(t, ds[0].NotBefore.Equal(open), "queued for when quiet hours end: %v, want %v", ds[0].NotBefore, open)

		// Even if the queue runs it early, it waits.
		err = w.svc.Deliver(ctx, conversations.DeliverAttempt{Tenant: w.tenant, Message: m.ID, Attempt: 1})
		var re *conversations.RetryError
		require.ErrorAs(t, err, &re)
		assert.InDelta(t, (9*time.Hour + 30*time.Minute).Seconds(), re.After.Seconds(), 60)
		assert.Zero(t, w.sms.ProviderCalls(), "nothing goes out inside quiet hours")

		// A person's message does not wait.
		th, err := w.svc.Thread(ctx, w.disp, m.Thread)
		require.NoError(t, err)
		_, err = w.svc.SendSMS(ctx, w.disp, conversations.SendSMS{Thread: th.ID, Body: "Call us any time"})
		require.NoError(t, err)
		assert.True(t, w.outbox.deliveries()[1].NotBefore.IsZero(), "a person's message goes at once")

		w.clock.set(open.Add(time.Minute))
		require.NoError(t, w.svc.Deliver(ctx, conversations.DeliverAttempt{Tenant: w.tenant, Message: m.ID, Attempt: 2}))
		assert.Equal(t, 1, w.sms.ProviderCalls(), "sent once the window opens")

		again, err := w.svc.SendWorkflow(ctx, conversations.WorkflowMessage{Tenant: w.tenant, Channel: conversations.ChannelSMS,
			Contact: conversations.Contact{Phone: "+15005550999"}, Body: "Your invoice is ready", Key: "run-1/invoice"})
		require.NoError(t, err)
		assert.Equal(t, m.ID, again.ID, "a repeated workflow key is one message")
		_, err = w.svc.SendWorkflow(ctx, conversations.WorkflowMessage{Tenant: w.tenant, Channel: conversations.ChannelSMS,
			Contact: conversations.Contact{Phone: "+15005550999"}, Body: "something else", Key: "run-1/invoice"})
		assert.ErrorIs(t, err, conversations.ErrConflict)
	})
}

func TestWorkflowEmailAndOptOut(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newFlowWorld(t, db, false, nil)
		contact := conversations.Contact{Phone: "+15005550999", Email: "pat@example.org", Name: "Pat Lee", Ref: "crm-1"}
		in := w.inbound(t, contact.Phone, "hi", "SM1")
		m, err := w.svc.SendWorkflow(ctx, conversations.WorkflowMessage{Tenant: w.tenant, Channel: conversations.ChannelEmail,
			Contact: contact, Subject: "Invoice #1042", Body: "Your invoice is attached."})
		require.NoError(t, err)
		assert.Equal(t, in.Thread, m.Thread, "the contact's one customer thread holds the email too")
		assert.Equal(t, w.sender, m.From)
		assert.Equal(t, contact.Email, m.To)
		for _, err := range w.deliverAll(t) {
			require.NoError(t, err)
		}
		sent := w.email.Sent()
		require.Len(t, sent, 1)
		assert.Equal(t, "Invoice #1042", sent[0].Subject)
		assert.Zero(t, w.sms.ProviderCalls())

		// Email-only contact: a thread keyed by the email address.
		m2, err := w.svc.SendWorkflow(ctx, conversations.WorkflowMessage{Tenant: w.tenant, Channel: conversations.ChannelEmail,
			Contact: conversations.Contact{Email: "sam@example.org"}, Subject: "Welcome", Body: "Thanks for booking."})
		require.NoError(t, err)
		th, err := w.svc.Thread(ctx, w.disp, m2.Thread)
		require.NoError(t, err)
		assert.Equal(t, "sam@example.org", th.Contact.Email)

		w.inbound(t, contact.Phone, "STOP", "SM2")
		_, err = w.svc.SendWorkflow(ctx, conversations.WorkflowMessage{Tenant: w.tenant, Channel: conversations.ChannelSMS,
			Contact: contact, Body: "Reminder: appointment tomorrow"})
		assert.ErrorIs(t, err, conversations.ErrOptedOut, "opt-outs apply to automated messages")

		for _, bad := range []conversations.WorkflowMessage{
			{Tenant: w.tenant, Channel: "fax", Contact: contact, Body: "x"},
			{Tenant: w.tenant, Channel: conversations.ChannelEmail, Contact: contact, Body: "no subject"},
			{Tenant: w.tenant, Channel: conversations.ChannelEmail, Contact: conversations.Contact{Email: "not an address"}, Subject: "s", Body: "x"},
			{Tenant: w.tenant, Channel: conversations.ChannelSMS, Contact: conversations.Contact{Phone: "555"}, Body: "x"},
			{Tenant: w.tenant, Channel: conversations.ChannelSMS, Contact: contact},
		} {
			_, err := w.svc.SendWorkflow(ctx, bad)
			assert.ErrorIs(t, err, conversations.ErrInvalid, "%+v", bad)
		}
	})
}

func TestEscalationReachesTheRightPeople(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newFlowWorld(t, db, false, nil)
		require.NoError(t, w.svc.Assign(ctx, w.tenant, "job-7", w.tech1.Staff))
		w.notes.take()
		esc := conversations.Escalation{
			Tenant: w.tenant, Contact: conversations.Contact{Phone: "+15005550999", Name: "Pat Lee"},
			Summary: "Caller reports water coming through the ceiling below the new heater.", Reason: "active leak",
			Transcript: "Caller: there's water everywhere\nReceptionist: I'm getting someone now", Urgent: true, Job: "job-7", Key: "call-123",
		}
		m, err := w.svc.Escalate(ctx, esc)
		require.NoError(t, err)
		assert.Equal(t, conversations.KindEscalation, m.Kind)
		assert.Equal(t, conversations.DirectionInbound, m.Direction)
		assert.Equal(t, conversations.SourceReceptionist, m.Source)
		assert.True(t, m.Urgent)
		assert.Equal(t, esc.Transcript, m.Details, "the transcript is kept with the message")
		got, err := db.GetMessage(ctx, w.tenant, m.ID)
		require.NoError(t, err)
		assert.Equal(t, esc.Transcript, got.Details)
		assert.True(t, got.Urgent)

		notes := w.notes.take()
		require.Equal(t, []conversations.StaffID{w.tech1.Staff}, recipients(ofType(notes, conversations.EventMessage)), "the assigned technician is told")
		assert.ElementsMatch(t, []conversations.StaffID{w.disp.Staff, w.admin.Staff}, recipients(ofType(notes, conversations.EventBadge)),
			"the dispatchers and the admin get their badge")
		for _, n := range notes {
			assert.True(t, n.Urgent, "urgent escalations are marked")
		}
		assert.Contains(t, inboxIDs(t, w.svc, w.tech1, conversations.FilterAll), m.Thread)
		assert.Contains(t, inboxIDs(t, w.svc, w.disp, conversations.FilterAll), m.Thread, "dispatchers see every customer thread")
		assert.NotContains(t, inboxIDs(t, w.svc, w.tech2, conversations.FilterAll), m.Thread, "no one else")

		again, err := w.svc.Escalate(ctx, esc)
		require.NoError(t, err)
		assert.Equal(t, m.ID, again.ID, "a repeated hand-off is one message")

		// Nobody watches this caller's thread: dispatchers and admins are told.
		m2, err := w.svc.Escalate(ctx, conversations.Escalation{Tenant: w.tenant, Contact: conversations.Contact{Phone: "+15005550123"},
			Summary: "Wants a quote for a new water softener", Reason: "pricing question"})
		require.NoError(t, err)
		assert.False(t, m2.Urgent)
		notes = w.notes.take()
		assert.ElementsMatch(t, []conversations.StaffID{w.disp.Staff, w.admin.Staff}, recipients(notes))
		assert.NotContains(t, inboxIDs(t, w.svc, w.tech1, conversations.FilterAll), m2.Thread)

		for _, bad := range []conversations.Escalation{
			{Tenant: w.tenant, Summary: "no contact"},
			{Tenant: w.tenant, Contact: conversations.Contact{Phone: "12"}, Summary: "x"},
			{Tenant: w.tenant, Contact: conversations.Contact{Phone: "+15005550999"}},
			{Contact: conversations.Contact{Phone: "+15005550999"}, Summary: "x"},
		} {
			_, err := w.svc.Escalate(ctx, bad)
			assert.ErrorIs(t, err, conversations.ErrInvalid, "%+v", bad)
		}
	})
}

func TestTimelineHoldsEachMessageOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newFlowWorld(t, db, true, nil) // the store's table-backed timeline: same transaction
		contact := conversations.Contact{Phone: "+15005550999"}
		in := w.inbound(t, contact.Phone, "When are you coming?", "SM1")
		w.inbound(t, contact.Phone, "When are you coming?", "SM1") // a repeated webhook
		_, err := w.svc.SendSMS(ctx, w.disp, conversations.SendSMS{Thread: in.Thread, Body: "Tom is on his way", Source: conversations.SourceDesktop})
		require.NoError(t, err)
		_, err = w.svc.SendSMS(ctx, w.disp, conversations.SendSMS{Thread: in.Thread, Body: "About 20 minutes", Source: conversations.SourceMobile})
		require.NoError(t, err)
		_, err = w.svc.SendWorkflow(ctx, conversations.WorkflowMessage{Tenant: w.tenant, Channel: conversations.ChannelSMS, Contact: contact, Body: "Your technician is on the way", Key: "k1"})
		require.NoError(t, err)
		_, err = w.svc.Escalate(ctx, conversations.Escalation{Tenant: w.tenant, Contact: contact, Summary: "Asked for a callback", Key: "call-1"})
		require.NoError(t, err)
		internal, err := w.svc.StartInternal(ctx, w.disp, conversations.StartInternal{Participants: []conversations.StaffID{w.tech1.Staff}})
		require.NoError(t, err)
		_, err = w.svc.SendInternal(ctx, w.disp, conversations.SendInternal{Thread: internal.ID, Body: "staff only"})
		require.NoError(t, err)

		entries, err := db.ContactTimeline(ctx, w.tenant, contact, time.Time{}, 50)
		require.NoError(t, err)
		var sources []conversations.Source
		seen := map[conversations.MessageID]int{}
		for _, e := range entries {
			sources = append(sources, e.Source)
			seen[e.Message]++
		}
		assert.Equal(t, []conversations.Source{conversations.SourceReceptionist, conversations.SourceWorkflow,
			conversations.SourceMobile, conversations.SourceDesktop, conversations.SourceProvider}, sources,
			"every customer message once, newest first, with where it came from")
		for id, n := range seen {
			assert.Equal(t, 1, n, "message %s recorded %d times", id, n)
		}
		for _, d := range w.outbox.deliveries() {
			assert.NotEqual(t, conversations.DeliverTimeline, d.Kind, "a timeline in the store's database is written in the message's transaction")
		}
	})
}

// crm is a Timeline in the host's CRM that is down for its first calls.
type crm struct {
	mu      sync.Mutex
	down    int
	entries map[conversations.MessageID]conversations.TimelineEntry
}

func (c *crm) Record(_ context.Context, e conversations.TimelineEntry) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down > 0 {
		c.down--
		return errors.New("crm: 503")
	}
	c.entries[e.Message] = e
	return nil
}

func TestTimelineInTheCRMGoesThroughTheQueue(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := &crm{down: 1, entries: map[conversations.MessageID]conversations.TimelineEntry{}}
		w := newFlowWorld(t, db, false, c)
		in := w.inbound(t, "+15005550999", "hello", "SM1")
		ds := w.outbox.deliveries()
		require.Len(t, ds, 1, "the entry is queued with the message")
		require.Equal(t, conversations.DeliverTimeline, ds[0].Kind)
		a := conversations.DeliverAttempt{Kind: ds[0].Kind, Tenant: w.tenant, Message: in.ID, Attempt: 1}
		var re *conversations.RetryError
		require.ErrorAs(t, w.svc.Deliver(ctx, a), &re, "the CRM is down: retry later")
		a.Attempt = 2
		require.NoError(t, w.svc.Deliver(ctx, a))
		require.NoError(t, w.svc.Deliver(ctx, a), "a repeated job is harmless")
		require.Len(t, c.entries, 1)
		assert.Equal(t, "+15005550999", c.entries[in.ID].Contact.Phone)

		_, err := conversations.NewService(conversations.Config{Store: db, Policy: policy.Default(), Timeline: c})
		assert.ErrorIs(t, err, conversations.ErrInvalid, "a CRM timeline without a queue could lose entries")
	})
}

// TestStoreTimelineNeedsAStoreThatKeepsOne: asking for the Store's own
// timeline of a Store that keeps none fails when the Service is built, not
// at the first message.
func TestStoreTimelineNeedsAStoreThatKeepsOne(t *testing.T) {
	db := testdb.SQLite(t)
	keepsNone := struct{ conversations.Store }{db}
	_, err := conversations.NewService(conversations.Config{Store: keepsNone, Policy: policy.Default(), StoreTimeline: true})
	var fe *conversations.FieldError
	if assert.ErrorAs(t, err, &fe) {
		assert.Equal(t, "config.store_timeline", fe.Field)
	}
	_, err = conversations.NewService(conversations.Config{Store: db, Policy: policy.Default(), StoreTimeline: true})
	assert.NoError(t, err, "store.DB keeps one")
}
