package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/store"
)

func TestContactTimeline(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tenant := conversations.NewID[conversations.TenantID]()
		pat := conversations.Contact{Phone: "+15005550999", Ref: "crm-1", Name: "Pat"}
		base := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
		var ids []conversations.MessageID
		for i := range 5 {
			id := conversations.NewID[conversations.MessageID]()
			ids = append(ids, id)
			e := conversations.TimelineEntry{Tenant: tenant, Contact: pat, Thread: "th", Message: id, Kind: conversations.KindCustomerSMS,
				Direction: conversations.DirectionInbound, Channel: conversations.ChannelSMS, Source: conversations.SourceProvider,
				Body: "m", At: base.Add(time.Duration(i) * time.Minute)}
			require.NoError(t, db.Record(ctx, e))
			require.NoError(t, db.Record(ctx, e), "recording a message twice keeps one entry")
		}
		require.NoError(t, db.Record(ctx, conversations.TimelineEntry{Tenant: tenant, Contact: conversations.Contact{Phone: "+15005550111"},
			Message: conversations.NewID[conversations.MessageID](), At: base}))
		require.NoError(t, db.Record(ctx, conversations.TimelineEntry{Tenant: conversations.NewID[conversations.TenantID](), Contact: pat,
			Message: conversations.NewID[conversations.MessageID](), At: base}))

		got, err := db.ContactTimeline(ctx, tenant, conversations.Contact{Ref: "crm-1"}, time.Time{}, 3)
		require.NoError(t, err)
		require.Len(t, got, 3)
		assert.Equal(t, []conversations.MessageID{ids[4], ids[3], ids[2]}, []conversations.MessageID{got[0].Message, got[1].Message, got[2].Message}, "newest first")
		older, err := db.ContactTimeline(ctx, tenant, conversations.Contact{Phone: pat.Phone}, got[2].At, 10)
		require.NoError(t, err)
		assert.Len(t, older, 2, "pages back, by phone too, without other contacts or businesses")
		_, err = db.ContactTimeline(ctx, tenant, conversations.Contact{}, time.Time{}, 10)
		assert.ErrorIs(t, err, conversations.ErrInvalid)
		assert.ErrorIs(t, db.Record(ctx, conversations.TimelineEntry{Tenant: tenant, Message: "m"}), conversations.ErrInvalid)
	})
}
