package conversations_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/channel/channeltest"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/store"
)

// putJob makes job known to the world's Jobs (the store's table-backed CRM).
func (w *world) putJob(t *testing.T, job conversations.JobID) {
	t.Helper()
	require.NoError(t, w.db.PutJob(context.Background(), conversations.JobContext{Tenant: w.tenant, ID: job, Title: "Job " + string(job)}))
}

// Linking a job needs the access JobThread needs: dispatchers and admins any
// job of their business, technicians only the jobs they are assigned to; a
// job the CRM does not know is ErrNotFound. A refused link changes nothing.
func TestLinkingAJobNeedsTheJobsAccess(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.putJob(t, "J-1042")
		require.NoError(t, w.svc.Assign(ctx, w.tenant, "J-1042", w.tech1.Staff))

		// StartInternal with a job.
		start := func(v conversations.Viewer, job conversations.JobID) error {
			_, err := w.svc.StartInternal(ctx, v, conversations.StartInternal{Participants: []conversations.StaffID{w.admin.Staff}, Job: job})
			return err
		}
		assert.ErrorIs(t, start(w.tech2, "J-1042"), conversations.ErrForbidden, "a technician not on the job")
		assert.ErrorIs(t, start(w.tech2, "J-NOPE"), conversations.ErrNotFound, "a job the CRM does not know")
		assert.ErrorIs(t, start(w.disp, "J-NOPE"), conversations.ErrNotFound, "a job the CRM does not know, for a dispatcher too")
		assert.Empty(t, inboxIDs(t, w.svc, w.tech2, conversations.FilterAll), "a refused start creates no thread")
		assert.Empty(t, inboxIDs(t, w.svc, w.admin, conversations.FilterInternal), "a refused start creates no thread")
		require.NoError(t, start(w.tech1, "J-1042"), "the job's technician")
		require.NoError(t, start(w.disp, "J-1042"), "a dispatcher")

		// LinkJob on a customer thread both technicians take part in.
		in := w.inbound(t, "+15005550999", "Is anyone coming?", "SM1")
		require.NoError(t, w.svc.AddParticipants(ctx, w.disp, in.Thread, w.tech1.Staff, w.tech2.Staff))
		assert.ErrorIs(t, w.svc.LinkJob(ctx, w.tech2, in.Thread, "J-1042"), conversations.ErrForbidden, "a technician not on the job")
		assert.ErrorIs(t, w.svc.LinkJob(ctx, w.tech1, in.Thread, "J-NOPE"), conversations.ErrNotFound, "a job the CRM does not know")
		assert.ErrorIs(t, w.svc.LinkJob(ctx, w.admin, in.Thread, "J-NOPE"), conversations.ErrNotFound, "a job the CRM does not know, for an admin too")
		th, err := w.svc.Thread(ctx, w.disp, in.Thread)
		require.NoError(t, err)
		assert.Empty(t, th.Jobs, "a refused link changes nothing")
		require.NoError(t, w.svc.LinkJob(ctx, w.tech1, in.Thread, "J-1042"), "the job's technician")
		th, err = w.svc.Thread(ctx, w.disp, in.Thread)
		require.NoError(t, err)
		assert.Equal(t, []conversations.JobID{"J-1042"}, th.Jobs)
	})
}

// A delivery report applies to an outbound message, and only with the
// provider id it was sent with: a signed callback naming an inbound message
// or another provider id changes nothing and says why.
func TestStatusReportsApplyToTheirOwnOutboundMessage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newSendWorld(t, db)
		in := w.inbound(t, "+15005550999", "hi", "SMin1")
		out, err := w.svc.SendSMS(ctx, w.disp, conversations.SendSMS{Thread: in.Thread, Body: "hello"})
		require.NoError(t, err)
		require.NoError(t, w.deliver(t, out, 1, false))
		sent := w.message(t, out.ID)
		require.NotEmpty(t, sent.ProviderID)

		for _, tc := range []struct {
			name string
			u    conversations.StatusUpdate
			m    conversations.MessageID
		}{
			{"inbound, by id", conversations.StatusUpdate{Message: in.ID, Status: conversations.StatusFailed}, in.ID},
			{"inbound, by provider id", conversations.StatusUpdate{Channel: conversations.ChannelSMS, ProviderID: "SMin1", Status: conversations.StatusUndelivered, ErrorCode: "30003"}, in.ID},
			{"outbound, another provider id", conversations.StatusUpdate{Message: out.ID, Channel: conversations.ChannelSMS, ProviderID: "SMother", Status: conversations.StatusFailed}, out.ID},
			{"outbound, another channel", conversations.StatusUpdate{Message: out.ID, Channel: conversations.ChannelEmail, ProviderID: sent.ProviderID, Status: conversations.StatusFailed}, out.ID},
		} {
			before := w.message(t, tc.m)
			tc.u.Tenant = w.tenant
			_, err := w.svc.ApplyStatus(ctx, tc.u)
			assert.ErrorIs(t, err, conversations.ErrConflict, tc.name)
			var refused *conversations.StatusRefusedError
			assert.ErrorAs(t, err, &refused, tc.name)
			assert.Equal(t, before, w.message(t, tc.m), "%s: nothing changes", tc.name)
		}
		got, err := w.svc.ApplyStatus(ctx, conversations.StatusUpdate{Tenant: w.tenant, Message: out.ID, Channel: conversations.ChannelSMS, ProviderID: sent.ProviderID, Status: conversations.StatusDelivered})
		require.NoError(t, err, "the message's own report")
		assert.Equal(t, conversations.StatusDelivered, got.Status)
	})
}

// Opt keywords: the provider's defaults, as the whole message in any case
// (CANCEL included); YES opts back in only a number that is opted out.
func TestOptKeywordsAsTheProviderHasThem(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newSendWorld(t, db)
		optedOut := func(number string) (conversations.OptOut, bool) {
			e, out, err := w.svc.OptedOut(ctx, w.tenant, number)
			require.NoError(t, err)
			return e, out
		}
		const a, b = "+15005550111", "+15005550222"
		w.inbound(t, a, "Yes", "SM1")
		_, out := optedOut(a)
		assert.False(t, out, "YES from a number that never opted out is an ordinary answer")
		e, _, err := w.db.OptedOut(ctx, w.tenant, a)
		require.NoError(t, err)
		assert.Empty(t, e.Keyword, "and records nothing")

		w.inbound(t, a, " Cancel. ", "SM2")
		e, out = optedOut(a)
		assert.True(t, out, "CANCEL as the whole message opts out")
		assert.Equal(t, "CANCEL", e.Keyword)
		w.inbound(t, a, "cancel my appointment please", "SM3")
		_, out = optedOut(a)
		assert.True(t, out, "a sentence is no keyword: nothing changes")
		w.inbound(t, a, "yes!", "SM4")
		e, out = optedOut(a)
		assert.False(t, out, "YES from an opted-out number opts back in")
		assert.Equal(t, "YES", e.Keyword)

		for i, kw := range []string{"stopall", "UNSUBSCRIBE", "end", "Quit", "revoke", "optout", "STOP"} {
			w.inbound(t, b, kw, fmt.Sprintf("SMb%d", 2*i))
			_, out = optedOut(b)
			assert.True(t, out, kw)
			w.inbound(t, b, "unstop", fmt.Sprintf("SMb%d", 2*i+1))
			_, out = optedOut(b)
			assert.False(t, out, "UNSTOP after "+kw)
		}
	})
}

// A provider's 21610 (the carrier's opt-out) is recorded as an opt-out and
// told as the carrier's report, not as a word the customer texted.
func TestCarrierOptOutIsToldAsTheCarriers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newSendWorld(t, db)
		in := w.inbound(t, "+15005550999", "hi", "SM1")
		m, err := w.svc.SendSMS(ctx, w.disp, conversations.SendSMS{Thread: in.Thread, Body: "hello"})
		require.NoError(t, err)
		perr := channeltest.Error(conversations.OptedOut, 0)
		perr.Code = "21610"
		w.sms.Script(channeltest.Result{Err: perr})
		require.NoError(t, w.deliver(t, m, 1, false))
		got := w.message(t, m.ID)
		assert.Equal(t, conversations.StatusFailed, got.Status)
		assert.Equal(t, "21610", got.ErrorCode)
		assert.Contains(t, got.ErrorReason, "carrier reports", "the sender is told it was the carrier's report")

		e, out, err := w.svc.OptedOut(ctx, w.tenant, "+15005550999")
		require.NoError(t, err)
		assert.True(t, out)
		assert.Equal(t, conversations.OptOutByCarrier, e.Keyword)
		_, err = w.svc.SendSMS(ctx, w.disp, conversations.SendSMS{Thread: in.Thread, Body: "again"})
		var oe *conversations.OptOutError
		require.ErrorAs(t, err, &oe)
		assert.Contains(t, oe.Error(), "carrier reports", "the refusal names the carrier")
		assert.NotContains(t, oe.Error(), "texted", "and no keyword the customer never sent")
	})
}
