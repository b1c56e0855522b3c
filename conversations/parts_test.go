package conversations_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/channel/channeltest"
	"github.com/fieldtalk/fieldtalk/channel/sendgrid"
	"github.com/fieldtalk/fieldtalk/channel/twilio"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
	"github.com/fieldtalk/fieldtalk/store/outbox"
)

// Each caller's part satisfies what its caller asks for, and so does the
// one-stop Service.
var (
	_ twilio.Receiver   = (*conversations.Hooks)(nil)
	_ sendgrid.Receiver = (*conversations.Hooks)(nil)
	_ outbox.Deliverer  = (*conversations.Worker)(nil)
	_ twilio.Receiver   = (*conversations.Service)(nil)
	_ outbox.Deliverer  = (*conversations.Service)(nil)
)

func TestPartsNeedStoreAndPolicy(t *testing.T) {
	db := testdb.SQLite(t)
	q := newMemQueue(db, &memOutbox{})
	for name, build := range map[string]func(conversations.Store, conversations.Policy) error{
		"App": func(st conversations.Store, p conversations.Policy) error {
			qs, _ := st.(conversations.QueueStore)
			_, err := conversations.NewApp(conversations.AppConfig{Store: qs, Policy: p})
			return err
		},
		"Hooks": func(st conversations.Store, p conversations.Policy) error {
			qs, _ := st.(conversations.QueueStore)
			_, err := conversations.NewHooks(conversations.HooksConfig{Store: qs, Policy: p})
			return err
		},
		"Sync": func(st conversations.Store, p conversations.Policy) error {
			_, err := conversations.NewSync(conversations.SyncConfig{Store: st, Policy: p})
			return err
		},
		"Worker": func(st conversations.Store, p conversations.Policy) error {
			_, err := conversations.NewWorker(conversations.WorkerConfig{Store: st, Policy: p})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			var fe *conversations.FieldError
			err := build(nil, policy.Default())
			require.True(t, errors.As(err, &fe), "a part without a store is a *FieldError: %v", err)
			assert.Equal(t, "config.store", fe.Field)
			err = build(q, nil)
			require.True(t, errors.As(err, &fe), "a part without a policy is a *FieldError: %v", err)
			assert.Equal(t, "config.policy", fe.Field)
			require.NoError(t, build(q, policy.Default()))
		})
	}
}

// A host built from parts over one database sees what the one-stop
// Service would: the CRM's Sync, a webhook's Hooks and the person's App
// share the store, and only Hooks and App can queue.
func TestPartsShareTheStore(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ob := &memOutbox{}
		q := newMemQueue(db, ob)
		crm, err := conversations.NewSync(conversations.SyncConfig{Store: testdb.Under(db), Policy: policy.Default()})
		require.NoError(t, err)
		hooks, err := conversations.NewHooks(conversations.HooksConfig{Store: q, Policy: policy.Default()})
		require.NoError(t, err)
		app, err := conversations.NewApp(conversations.AppConfig{Store: q, Policy: policy.Default()})
		require.NoError(t, err)
		sms := channeltest.NewFake(conversations.ChannelSMS)
		worker, err := conversations.NewWorker(conversations.WorkerConfig{Store: testdb.Under(db), Policy: policy.Default(), Channels: []conversations.Channel{sms}})
		require.NoError(t, err)

		tenant := conversations.NewID[conversations.TenantID]()
		number := "+15006660" + fmtDigits(string(tenant))
		dana := conversations.Staff{Tenant: tenant, ID: "dana", Name: "Dana", Role: conversations.RoleDispatcher}
		require.NoError(t, crm.PutStaff(ctx, dana))
		require.NoError(t, crm.ProvisionNumber(ctx, conversations.BusinessNumber{Tenant: tenant, Number: number, Default: true}))

		in, created, err := hooks.Receive(ctx, conversations.InboundMessage{
			Channel: conversations.ChannelSMS, BusinessNumber: number, From: "+15005550199", Body: "hello", ProviderID: "SM-" + string(tenant),
		})
		require.NoError(t, err)
		require.True(t, created)
		assert.Equal(t, tenant, in.Tenant, "Receive routes by the number the CRM provisioned")

		page, err := app.Inbox(ctx, dana.Viewer(), conversations.InboxQuery{})
		require.NoError(t, err)
		require.Len(t, page.Threads, 1)
		assert.Equal(t, in.Thread, page.Threads[0].ID)

		out, err := app.SendSMS(ctx, dana.Viewer(), conversations.SendSMS{Thread: in.Thread, Body: "on our way", ClientID: "c1"})
		require.NoError(t, err)
		require.Len(t, ob.deliveries(), 1, "App queued the reply in its transaction")
		require.NoError(t, worker.Deliver(ctx, conversations.DeliverAttempt{Tenant: tenant, Message: out.ID, Attempt: 1}))
		require.Len(t, sms.Sent(), 1, "the Worker sent it through its channel")
		m, err := db.GetMessage(ctx, tenant, out.ID)
		require.NoError(t, err)
		assert.NotEqual(t, conversations.StatusQueued, m.Status)
	})
}

// fmtDigits turns an id into six digits, so each run's number is its own.
func fmtDigits(s string) string {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	d := make([]byte, 6)
	for i := range d {
		d[i] = byte('0' + h%10)
		h /= 10
	}
	return string(d)
}
