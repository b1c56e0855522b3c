package storetest

import (
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// testApplyStatusFrom: on the message as read it is ApplyStatus; on a
// stale copy it loses nothing a concurrent report wrote.
func testApplyStatusFrom(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	tech := f.staff(conversations.RoleTechnician)
	th := f.customer()
	m, _, err := s.AppendMessage(f.ctx, f.outboundMsg(th, tech.ID, "from"))
	must(t, err, "AppendMessage")
	at := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

	sending, changed, err := s.ApplyStatusFrom(f.ctx, m, conversations.StatusUpdate{Tenant: f.tenant, Message: m.ID, Status: conversations.StatusSending, At: at})
	must(t, err, "ApplyStatusFrom(sending)")
	if !changed || sending.Status != conversations.StatusSending {
		t.Errorf("ApplyStatusFrom: sending on the message as read applies: got %s changed=%v", sending.Status, changed)
	}
	// A callback lands between the caller's read and its write.
	_, _, err = s.ApplyStatus(f.ctx, conversations.StatusUpdate{Tenant: f.tenant, Message: m.ID, Status: conversations.StatusDelivered,
		ProviderID: "SM-from-" + string(m.ID), At: at.Add(2 * time.Minute)})
	must(t, err, "ApplyStatus(delivered)")
	got, _, err := s.ApplyStatusFrom(f.ctx, sending, conversations.StatusUpdate{Tenant: f.tenant, Message: m.ID, Status: conversations.StatusSent,
		ProviderID: "SM-from-" + string(m.ID), At: at.Add(time.Minute)})
	must(t, err, "ApplyStatusFrom(stale)")
	stored, err := s.GetMessage(f.ctx, f.tenant, m.ID)
	must(t, err, "GetMessage")
	if stored.Status != conversations.StatusDelivered || !stored.SentAt.Equal(at.Add(time.Minute)) || !stored.DeliveredAt.Equal(at.Add(2*time.Minute)) {
		t.Errorf("ApplyStatusFrom: a stale copy must not undo a concurrent report: stored %s sent=%v delivered=%v", stored.Status, stored.SentAt, stored.DeliveredAt)
	}
	if got.Status != stored.Status || !got.SentAt.Equal(stored.SentAt) {
		t.Errorf("ApplyStatusFrom: returns what is stored: got %s, stored %s", got.Status, stored.Status)
	}
}
