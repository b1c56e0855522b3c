package push_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/notify"
	"github.com/fieldtalk/fieldtalk/notify/push"
	"github.com/fieldtalk/fieldtalk/notify/push/pushtest"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
)

// revokeAfterFirst is the store's ThreadAccess, which runs revoke once,
// right after its first answer: the push was checked and is on its way
// when the technician loses the thread.
type revokeAfterFirst struct {
	notify.Visibility
	once   sync.Once
	revoke func()
}

func (r *revokeAfterFirst) VisibleThreads(ctx context.Context, tenant conversations.TenantID, staff conversations.StaffID, threads []conversations.ThreadID) ([]conversations.ThreadID, error) {
	ids, err := r.Visibility.VisibleThreads(ctx, tenant, staff, threads)
	r.once.Do(r.revoke)
	return ids, err
}

// A push whose first attempt the provider refused for now, and whose
// recipient loses the thread before the retry, is not retried; a push for
// a thread the recipient no longer sees is not sent at all; badge pushes
// go. FCM and the web hook, on both databases.
func TestPushesObeyARevocationWhileQueued(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, err := conversations.NewService(conversations.Config{Store: db, Policy: policy.Default()})
		require.NoError(t, err)
		tenant := conversations.NewID[conversations.TenantID]()
		tom := conversations.Staff{Tenant: tenant, ID: "tom", Name: "Tom", Role: conversations.RoleTechnician}
		dana := conversations.Staff{Tenant: tenant, ID: "dana", Name: "Dana", Role: conversations.RoleDispatcher}
		for _, st := range []conversations.Staff{tom, dana} {
			require.NoError(t, svc.PutStaff(ctx, st))
		}
		require.NoError(t, svc.ProvisionNumber(ctx, conversations.BusinessNumber{Tenant: tenant, Number: "+15008880001", Default: true}))
		require.NoError(t, db.RegisterDevice(ctx, store.Device{Tenant: tenant, Staff: tom.ID, Token: "tom-phone"}))
		access, err := conversations.NewThreadAccess(db, policy.Default())
		require.NoError(t, err)

		type pusher struct {
			name     string
			notifier func(t *testing.T, vis notify.Visibility) (conversations.Notifier, func() (requests, accepted int))
		}
		for i, p := range []pusher{
			{"fcm", func(t *testing.T, vis notify.Visibility) (conversations.Notifier, func() (int, int)) {
				fake := pushtest.NewFCM(t)
				fake.Fail(1, pushtest.Unavailable(0))
				n, err := push.NewFCM(push.FCMConfig{Credentials: fake.Credentials(), Devices: db, BaseURL: fake.URL()}, fastRetries, push.WithVisibility(vis))
				require.NoError(t, err)
				return n, func() (int, int) { return fake.SendRequests(), len(fake.Sent()) }
			}},
			{"webhook", func(t *testing.T, vis notify.Visibility) (conversations.Notifier, func() (int, int)) {
				secret := []byte("0123456789abcdef0123")
				gw := pushtest.NewGateway(t, secret)
				gw.Fail(1, pushtest.Unavailable(0))
				n, err := push.NewWebhook(push.WebhookConfig{URL: gw.URL(), Secret: secret}, fastRetries, push.WithVisibility(vis))
				require.NoError(t, err)
				return n, func() (int, int) { return gw.Requests(), len(gw.Received()) }
			}},
		} {
			t.Run(p.name, func(t *testing.T) {
				in, _, err := svc.Receive(ctx, conversations.InboundMessage{Tenant: tenant, Channel: conversations.ChannelSMS,
					BusinessNumber: "+15008880001", From: "+1500555010" + string(rune('1'+i)), Body: "Is the tech coming?", ProviderID: "SM" + p.name})
				require.NoError(t, err)
				require.NoError(t, svc.AddParticipants(ctx, dana.Viewer(), in.Thread, tom.ID))
				vis := &revokeAfterFirst{Visibility: access, revoke: func() {
					require.NoError(t, svc.RemoveParticipant(ctx, dana.Viewer(), in.Thread, tom.ID))
				}}
				n, counts := p.notifier(t, vis)
				note := conversations.Notification{Tenant: tenant, Recipient: tom.ID, Type: conversations.EventMessage, Thread: in.Thread, Message: &in, Badge: 1}

				require.NoError(t, n.Notify(ctx, note))
				requests, accepted := counts()
				assert.Equal(t, 1, requests, "the first attempt went while Tom could see the thread; no retry after he lost it")
				assert.Zero(t, accepted)

				require.NoError(t, n.Notify(ctx, note))
				requests, _ = counts()
				assert.Equal(t, 1, requests, "a push for a thread Tom no longer sees is not sent")

				require.NoError(t, n.Notify(ctx, conversations.Notification{Tenant: tenant, Recipient: tom.ID, Type: conversations.EventBadge, Thread: in.Thread}))
				requests, accepted = counts()
				assert.Equal(t, 2, requests, "a badge push goes")
				assert.Equal(t, 1, accepted)
			})
		}
	})
}
