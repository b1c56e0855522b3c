package store_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/store"
)

var unfinishedTenants atomic.Int64

// TestUnfinishedOutbound: the status sweep's read finds, business by
// business and page by page, exactly the accepted outbound messages of the
// window that have no final status, and reads no message made before the
// window (their ids sort before its first). On Citus every statement is
// one shard's.
func TestUnfinishedOutbound(t *testing.T) {
	testdb.EachDistributed(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Millisecond)
		from, to := now.Add(-72*time.Hour), now.Add(-time.Minute)
		var want []store.MessageKey
		n := unfinishedTenants.Add(1)
		for i, tenant := range []conversations.TenantID{conversations.TenantID(fmt.Sprintf("unf-a-%d", n)), conversations.TenantID(fmt.Sprintf("unf-b-%d", n))} {
			number := fmt.Sprintf("+1500555%02d%02d", n%100, i)
			require.NoError(t, db.PutNumber(ctx, conversations.BusinessNumber{Tenant: tenant, Number: number, Channel: conversations.ChannelSMS}))
			th, _, err := db.CustomerThread(ctx, conversations.Thread{Tenant: tenant, BusinessNumber: number, Contact: conversations.Contact{Phone: "+15005550001"}})
			require.NoError(t, err)
			add := func(id conversations.MessageID, at time.Time, status conversations.Status, provider string) conversations.MessageID {
				t.Helper()
				m := conversations.Message{ID: id, Tenant: tenant, Thread: th.ID, Kind: conversations.KindCustomerSMS,
					Direction: conversations.DirectionOutbound, Channel: conversations.ChannelSMS, AuthorType: conversations.AuthorStaff,
					Author: "dana", Body: "on my way", Source: conversations.SourceMobile, From: number, To: "+15005550001",
					CreatedAt: at, Status: status, ProviderID: provider}
				_, _, err := db.AppendMessage(ctx, m)
				require.NoError(t, err)
				return id
			}
			for j := range 3 { // three pages' worth with a page of 2
				id := add(conversations.NewID[conversations.MessageID](), now.Add(-time.Hour), conversations.StatusSending, fmt.Sprintf("SM%d%d%d", n, i, j))
				want = append(want, store.MessageKey{Tenant: tenant, ID: id})
			}
			add(conversations.NewID[conversations.MessageID](), now.Add(-time.Hour), conversations.StatusDelivered, fmt.Sprintf("SMd%d%d", n, i))
			add(conversations.NewID[conversations.MessageID](), now.Add(-time.Hour), conversations.StatusQueued, "")
			add(conversations.NewID[conversations.MessageID](), now, conversations.StatusSent, fmt.Sprintf("SMn%d%d", n, i)) // after the window
			// Made 100 hours ago: its id and its time are before the window.
			old := now.Add(-100 * time.Hour).UnixMilli()
			oldID := conversations.MessageID(fmt.Sprintf("%08x-%04x-7000-8000-%012x", uint64(old)>>16, uint64(old)&0xffff, n*10+int64(i)))
			add(oldID, now.Add(-100*time.Hour), conversations.StatusSent, fmt.Sprintf("SMo%d%d", n, i))
		}
		slices.SortFunc(want, func(a, b store.MessageKey) int {
			if a.Tenant != b.Tenant {
				return cmp.Compare(a.Tenant, b.Tenant)
			}
			return cmp.Compare(a.ID, b.ID)
		})

		var got []store.MessageKey
		var after store.MessageKey
		for pages := 0; ; pages++ {
			require.Less(t, pages, 10, "paging ends")
			page, err := db.UnfinishedOutbound(ctx, from, to, after, 2)
			require.NoError(t, err)
			require.LessOrEqual(t, len(page), 2)
			got = append(got, page...)
			if len(page) < 2 {
				break
			}
			after = page[len(page)-1]
		}
		// Other tests' businesses share the database: keep this test's.
		got = slices.DeleteFunc(got, func(k store.MessageKey) bool {
			return !slices.ContainsFunc(want, func(w store.MessageKey) bool { return w.Tenant == k.Tenant })
		})
		require.Equal(t, want, got, "each business's unfinished messages of the window, in (business, id) order, each once")

		_, err := db.UnfinishedOutbound(ctx, from, to, store.MessageKey{}, 0)
		require.ErrorIs(t, err, conversations.ErrInvalid)
	})
}
