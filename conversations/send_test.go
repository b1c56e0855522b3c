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

// memOutbox records deliveries; it stands in for the durable queue, whose
// own tests (store) cover the transaction. The fan-out jobs of new messages
// (DeliverNotify) are kept apart, in notify.
type memOutbox struct {
	mu     sync.Mutex
	got    []conversations.Delivery
	notify []conversations.Delivery
	fail   error
}

func (o *memOutbox) Enqueue(_ context.Context, _ conversations.Store, d conversations.Delivery) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return o.fail
	}
	if d.Kind == conversations.DeliverNotify {
		o.notify = append(o.notify, d)
		return nil
	}
	o.got = append(o.got, d)
	return nil
}

// memQueue is the store with memOutbox as its queue: a
// conversations.QueueStore.
type memQueue struct {
	conversations.FastStore
	*memOutbox
	db *store.DB
}

// RecordTimeline shows that the Store under the queue keeps a timeline
// (the Service records through the transactions its Tx hands over).
func (q memQueue) RecordTimeline(ctx context.Context, e conversations.TimelineEntry) error {
	return q.db.RecordTimeline(ctx, e)
}

// newMemQueue puts o under the Store the tests run over (testdb.Under).
func newMemQueue(db *store.DB, o *memOutbox) memQueue {
	return memQueue{conversations.WithFallbacks(testdb.Under(db)), o, db}
}

// fanOut runs the fan-out jobs queued so far, as the queue's worker would.
func (o *memOutbox) fanOut(t testing.TB, svc *conversations.Service) {
	t.Helper()
	o.mu.Lock()
	jobs := o.notify
	o.notify = nil
	o.mu.Unlock()
	for _, d := range jobs {
		require.NoError(t, svc.Deliver(context.Background(), conversations.DeliverAttempt{Kind: d.Kind, Tenant: d.Tenant, Message: d.Message, Attempt: 1}))
	}
}

func (o *memOutbox) deliveries() []conversations.Delivery {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]conversations.Delivery(nil), o.got...)
}

type sendWorld struct {
	*world
	outbox *memOutbox
	sms    *channeltest.Fake
}

func newSendWorld(t *testing.T, db *store.DB) *sendWorld {
	t.Helper()
	w := newWorld(t, db)
	sw := &sendWorld{world: w, outbox: &memOutbox{}, sms: channeltest.NewFake(conversations.ChannelSMS)}
	svc, err := conversations.NewService(conversations.Config{
		Store: newMemQueue(db, sw.outbox), Policy: policy.Default(), Notifier: w.notes, Jobs: db,
		Channels: []conversations.Channel{sw.sms},
	})
	require.NoError(t, err)
	w.svc = svc
	return sw
}

func (w *sendWorld) deliver(t *testing.T, m conversations.Message, attempt int, final bool) error {
	t.Helper()
	return w.svc.Deliver(context.Background(), conversations.DeliverAttempt{Tenant: w.tenant, Message: m.ID, Attempt: attempt, Final: final})
}

func (w *sendWorld) message(t *testing.T, id conversations.MessageID) conversations.Message {
	t.Helper()
	m, err := w.db.GetMessage(context.Background(), w.tenant, id)
	require.NoError(t, err)
	return m
}

func TestSendSMSQueuesThenDelivers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newSendWorld(t, db)
		in := w.inbound(t, "+15005550999", "When are you coming?", "SM1")
		m, err := w.svc.SendSMS(ctx, w.disp, conversations.SendSMS{Thread: in.Thread, Body: "Tom is on his way, about 20 min."})
		require.NoError(t, err)
		assert.Equal(t, conversations.StatusQueued, m.Status, "an accepted message is stored as queued")
		assert.Equal(t, w.number, m.From, "SMS go out from the business's number")
		assert.Equal(t, "+15005550999", m.To)
		require.Len(t, w.outbox.deliveries(), 1)
		assert.Zero(t, w.sms.ProviderCalls(), "nothing reaches the provider before the queue runs")

		require.NoError(t, w.deliver(t, m, 1, false))
		sent := w.sms.Sent()
		require.Len(t, sent, 1)
		assert.Equal(t, w.number, sent[0].From)
		assert.Equal(t, m.ID, sent[0].Message, "the provider gets our id for correlation")
		got := w.message(t, m.ID)
		assert.NotEmpty(t, got.ProviderID, "the provider id is recorded")
		assert.Equal(t, conversations.StatusSending, got.Status)

		_, err = w.svc.ApplyStatus(ctx, conversations.StatusUpdate{Tenant: w.tenant, Channel: conversations.ChannelSMS, ProviderID: got.ProviderID, Status: conversations.StatusDelivered})
		require.NoError(t, err)
		require.NoError(t, w.deliver(t, m, 2, false), "a repeated job for a finished message")
		assert.Equal(t, 1, w.sms.ProviderCalls(), "a finished message is never sent again")
		assert.Equal(t, conversations.StatusDelivered, w.message(t, m.ID).Status)
	})
}

func TestOfflineDraftSentThreeTimesGoesOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newSendWorld(t, db)
		in := w.inbound(t, "+15005550999", "hi", "SM1")
		d, err := w.svc.SaveDraft(ctx, w.disp, conversations.Draft{Thread: in.Thread, Body: "Running late, there by 9:10"})
		require.NoError(t, err)
		send := conversations.SendSMS{Thread: in.Thread, Body: d.Body, ClientID: d.ClientID, Draft: d.ID}
		var ids []conversations.MessageID
		for range 3 {
			m, err := w.svc.SendSMS(ctx, w.disp, send)
			require.NoError(t, err)
			ids = append(ids, m.ID)
		}
		assert.Equal(t, ids[0], ids[1])
		assert.Equal(t, ids[0], ids[2], "the same client id is one message")
		assert.Len(t, w.outbox.deliveries(), 1, "and one delivery")
		_, err = w.svc.Draft(ctx, w.disp, d.ID)
		assert.ErrorIs(t, err, conversations.ErrNotFound, "sending a draft removes it")
		for i, dl := range w.outbox.deliveries() {
			require.NoError(t, w.deliver(t, w.message(t, dl.Message), i+1, false))
		}
		assert.Equal(t, 1, w.sms.ProviderCalls(), "one SMS")

		send.Body = "a different text"
		_, err = w.svc.SendSMS(ctx, w.disp, send)
		assert.ErrorIs(t, err, conversations.ErrConflict, "the same client id with other content")
	})
}

func TestSendSMSHonoursOptOut(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newSendWorld(t, db)
		in := w.inbound(t, "+15005550999", "STOP", "SM1")
		_, err := w.svc.SendSMS(ctx, w.disp, conversations.SendSMS{Thread: in.Thread, Body: "Are you sure?"})
		require.ErrorIs(t, err, conversations.ErrOptedOut)
		var oe *conversations.OptOutError
		require.ErrorAs(t, err, &oe, "the sender sees why")
		assert.Equal(t, "STOP", oe.Entry.Keyword)
		assert.Empty(t, w.outbox.deliveries())
		page, err := w.svc.History(ctx, w.disp, in.Thread, conversations.HistoryQuery{})
		require.NoError(t, err)
		assert.Len(t, page.Messages, 1, "nothing is stored for a refused send")

		w.inbound(t, "+15005550999", "START", "SM2")
		welcome := conversations.SendSMS{Thread: in.Thread, Body: "Welcome back", ClientID: "dana-phone/7"}
		m, err := w.svc.SendSMS(ctx, w.disp, welcome)
		require.NoError(t, err)
		// The customer opts out again while the message waits in the queue.
		w.inbound(t, "+15005550999", "stop", "SM3")
		again, err := w.svc.SendSMS(ctx, w.disp, welcome)
		require.NoError(t, err, "a device retrying an accepted send gets it back, opt-out or not")
		assert.Equal(t, m.ID, again.ID)
		require.NoError(t, w.deliver(t, m, 1, false))
		assert.Zero(t, w.sms.ProviderCalls(), "the opt-out is checked again at send time")
		got := w.message(t, m.ID)
		assert.Equal(t, conversations.StatusFailed, got.Status)
		assert.NotEmpty(t, got.ErrorReason, "the sender sees why")
	})
}

func TestSendSMSRollsBackWhenTheQueueFails(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newSendWorld(t, db)
		in := w.inbound(t, "+15005550999", "hi", "SM1")
		w.outbox.fail = errors.New("queue down")
		_, err := w.svc.SendSMS(ctx, w.disp, conversations.SendSMS{Thread: in.Thread, Body: "hello", ClientID: "c1"})
		require.Error(t, err)
		page, err := w.svc.History(ctx, w.disp, in.Thread, conversations.HistoryQuery{})
		require.NoError(t, err)
		assert.Len(t, page.Messages, 1, "a message whose delivery could not be queued is not stored either")
		w.outbox.fail = nil
		m, err := w.svc.SendSMS(ctx, w.disp, conversations.SendSMS{Thread: in.Thread, Body: "hello", ClientID: "c1"})
		require.NoError(t, err, "the device's retry goes through")
		assert.EqualValues(t, 2, m.Seq)
	})
}

func TestSendSMSVisibility(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newSendWorld(t, db)
		in := w.inbound(t, "+15005550999", "hi", "SM1")
		_, err := w.svc.SendSMS(ctx, w.tech1, conversations.SendSMS{Thread: in.Thread, Body: "hello"})
		assert.ErrorIs(t, err, conversations.ErrForbidden, "a thread the technician may not see")
		_, err = w.svc.SendSMS(ctx, w.tech1, conversations.SendSMS{To: "+15005550999", Body: "hello"})
		assert.ErrorIs(t, err, conversations.ErrForbidden, "texting the number of someone else's thread would reveal it")
		m, err := w.svc.SendSMS(ctx, w.tech1, conversations.SendSMS{To: "+15005550123", Body: "Hi, Tom from Acme here"})
		require.NoError(t, err, "a new customer number")
		th, err := w.svc.Thread(ctx, w.tech1, m.Thread)
		require.NoError(t, err)
		assert.Equal(t, []conversations.StaffID{w.tech1.Staff}, th.Participants, "who starts a thread takes part in it")

		for _, tc := range []struct {
			name string
			in   conversations.SendSMS
		}{
			{"no recipient", conversations.SendSMS{Body: "x"}},
			{"both recipients", conversations.SendSMS{Thread: in.Thread, To: "+15005550123", Body: "x"}},
			{"bad number", conversations.SendSMS{To: "0800 FLOWERS", Body: "x"}},
			{"empty body", conversations.SendSMS{Thread: in.Thread}},
			{"unknown source", conversations.SendSMS{Thread: in.Thread, Body: "x", Source: "fax"}},
		} {
			_, err := w.svc.SendSMS(ctx, w.disp, tc.in)
			assert.ErrorIs(t, err, conversations.ErrInvalid, tc.name)
		}
		assert.Len(t, w.outbox.deliveries(), 1, "only the valid send was queued")
	})
}

func TestDeliverRechecksTheSender(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newSendWorld(t, db)
		in := w.inbound(t, "+15005550999", "hi", "SM1")
		w.putJob(t, "job-1")
		require.NoError(t, w.svc.LinkJob(ctx, w.disp, in.Thread, "job-1"))
		require.NoError(t, w.svc.Assign(ctx, w.tenant, "job-1", w.tech1.Staff))
		m, err := w.svc.SendSMS(ctx, w.tech1, conversations.SendSMS{Thread: in.Thread, Body: "On my way"})
		require.NoError(t, err)
		require.NoError(t, w.svc.Unassign(ctx, w.tenant, "job-1", w.tech1.Staff))
		require.NoError(t, w.deliver(t, m, 1, false))
		assert.Zero(t, w.sms.ProviderCalls(), "a sender who lost the thread while the message waited")
		got := w.message(t, m.ID)
		assert.Equal(t, conversations.StatusFailed, got.Status)
		assert.NotEmpty(t, got.ErrorReason)
	})
}

func TestDeliverRetriesAndNeverResendsBlindly(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newSendWorld(t, db)
		in := w.inbound(t, "+15005550999", "hi", "SM1")
		send := func(body string) conversations.Message {
			m, err := w.svc.SendSMS(ctx, w.disp, conversations.SendSMS{Thread: in.Thread, Body: body})
			require.NoError(t, err)
			return m
		}

		// Rate limited: retry after the provider's hint, then succeed.
		m := send("one")
		w.sms.Script(channeltest.Result{Err: channeltest.Error(conversations.Retryable, 3*time.Second)})
		err := w.deliver(t, m, 1, false)
		var re *conversations.RetryError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, 3*time.Second, re.After, "the provider's Retry-After is passed to the queue")
		require.NoError(t, w.deliver(t, m, 2, false))
		assert.NotEmpty(t, w.message(t, m.ID).ProviderID)

		// The provider took it but the answer was lost: the next attempt finds it and does not resend.
		m = send("two")
		w.sms.Script(channeltest.Result{Err: channeltest.Error(conversations.MaybeSent, 0)})
		require.ErrorAs(t, w.deliver(t, m, 1, false), &re)
		before := w.sms.ProviderCalls()
		require.NoError(t, w.deliver(t, m, 2, false))
		assert.Equal(t, before, w.sms.ProviderCalls(), "a message the provider has is not sent again")
		assert.NotEmpty(t, w.message(t, m.ID).ProviderID, "its provider id is recovered")

		// Lost answer and the provider does not have it: sent again, once.
		m = send("three")
		w.sms.Script(channeltest.Result{Err: channeltest.Error(conversations.MaybeSent, 0), Lost: true})
		require.ErrorAs(t, w.deliver(t, m, 1, false), &re)
		require.NoError(t, w.deliver(t, m, 2, false))
		assert.NotEmpty(t, w.message(t, m.ID).ProviderID)

		// Permanent errors end in failed with the code and a reason.
		m = send("four")
		pe := channeltest.Error(conversations.Permanent, 0)
		pe.Code, pe.Reason = "21211", "the number is not a valid mobile number"
		w.sms.Script(channeltest.Result{Err: pe})
		require.NoError(t, w.deliver(t, m, 1, false))
		got := w.message(t, m.ID)
		assert.Equal(t, conversations.StatusFailed, got.Status)
		assert.Equal(t, "21211", got.ErrorCode)
		assert.Equal(t, pe.Reason, got.ErrorReason)

		// The retry budget runs out: failed, with why.
		m = send("five")
		w.sms.Script(channeltest.Result{Err: channeltest.Error(conversations.Retryable, 0)})
		require.NoError(t, w.deliver(t, m, 8, true))
		got = w.message(t, m.ID)
		assert.Equal(t, conversations.StatusFailed, got.Status)
		assert.Contains(t, got.ErrorReason, "gave up after 8 attempts")

		// The provider says the customer opted out: failed, and recorded in the ledger.
		m = send("six")
		w.sms.Script(channeltest.Result{Err: channeltest.Error(conversations.OptedOut, 0)})
		require.NoError(t, w.deliver(t, m, 1, false))
		assert.Equal(t, conversations.StatusFailed, w.message(t, m.ID).Status)
		_, out, err := w.svc.OptedOut(ctx, w.tenant, "+15005550999")
		require.NoError(t, err)
		assert.True(t, out)
	})
}
