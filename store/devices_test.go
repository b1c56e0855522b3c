package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/store"
)

func TestDevices(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, st := range []conversations.Staff{
			{Tenant: "t1", ID: "tom", Role: conversations.RoleTechnician},
			{Tenant: "t1", ID: "tara", Role: conversations.RoleTechnician},
			{Tenant: "t2", ID: "tom", Role: conversations.RoleTechnician},
		} {
			require.NoError(t, db.PutStaff(ctx, st))
		}
		first := time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC)
		require.NoError(t, db.RegisterDevice(ctx, store.Device{Tenant: "t1", Staff: "tom", Token: "tok-b", Platform: "ios", UpdatedAt: first}))
		require.NoError(t, db.RegisterDevice(ctx, store.Device{Tenant: "t1", Staff: "tom", Token: "tok-a", Platform: "android", UpdatedAt: first}))
		require.NoError(t, db.RegisterDevice(ctx, store.Device{Tenant: "t2", Staff: "tom", Token: "tok-a", UpdatedAt: first}))

		tokens, err := db.DeviceTokens(ctx, "t1", "tom")
		require.NoError(t, err)
		assert.Equal(t, []string{"tok-a", "tok-b"}, tokens)

		// The app registers again on every start; another staff member
		// signing in on the phone takes the token over.
		later := first.Add(time.Hour)
		require.NoError(t, db.RegisterDevice(ctx, store.Device{Tenant: "t1", Staff: "tara", Token: "tok-b", Platform: "ios", UpdatedAt: later}))
		tokens, err = db.DeviceTokens(ctx, "t1", "tom")
		require.NoError(t, err)
		assert.Equal(t, []string{"tok-a"}, tokens, "a token moves to whoever registered it last")
		devs, err := db.Devices(ctx, "t1", "tara")
		require.NoError(t, err)
		assert.Equal(t, []store.Device{{Tenant: "t1", Staff: "tara", Token: "tok-b", Platform: "ios", CreatedAt: first, UpdatedAt: later}}, devs,
			"re-registering keeps the first registration time")

		require.NoError(t, db.RemoveDeviceToken(ctx, "t1", "tok-a"))
		require.NoError(t, db.RemoveDeviceToken(ctx, "t1", "tok-a"), "removing twice is harmless")
		tokens, err = db.DeviceTokens(ctx, "t1", "tom")
		require.NoError(t, err)
		assert.Empty(t, tokens)
		tokens, err = db.DeviceTokens(ctx, "t2", "tom")
		require.NoError(t, err)
		assert.Equal(t, []string{"tok-a"}, tokens, "removal is scoped to one tenant")

		err = db.RegisterDevice(ctx, store.Device{Tenant: "t1", Staff: "ghost", Token: "tok-c"})
		assert.ErrorIs(t, err, conversations.ErrNotFound, "a device for a staff member the tenant does not have")
		for _, d := range []store.Device{
			{Staff: "tom", Token: "x"},
			{Tenant: "t1", Token: "x"},
			{Tenant: "t1", Staff: "tom"},
			{Tenant: "t1", Staff: "tom", Token: strings.Repeat("x", store.MaxDeviceTokenBytes+1)},
		} {
			assert.ErrorIs(t, db.RegisterDevice(ctx, d), conversations.ErrInvalid, "%+v", d)
		}
	})
}
