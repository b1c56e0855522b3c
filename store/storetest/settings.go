package storetest

import (
	"testing"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

func testSettings(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	got, err := s.GetSettings(f.ctx, f.tenant)
	must(t, err, "GetSettings(never saved)")
	if got.Tenant != f.tenant || got.Name != "" || got.Quiet != (conversations.QuietHours{}) {
		t.Errorf("GetSettings: a business that saved nothing has zero settings: got %+v", got)
	}
	want := conversations.Settings{Tenant: f.tenant, Name: "Acme Plumbing",
		Quiet: conversations.QuietHours{Start: "21:00", End: "08:00", TimeZone: "America/Chicago"}, UpdatedAt: time.Now().UTC().Truncate(time.Second)}
	must(t, s.PutSettings(f.ctx, want), "PutSettings")
	want.Name = "Acme Plumbing & Heating"
	must(t, s.PutSettings(f.ctx, want), "PutSettings(replace)")
	got, err = s.GetSettings(f.ctx, f.tenant)
	must(t, err, "GetSettings")
	if got.Name != want.Name || got.Quiet != want.Quiet || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("GetSettings: reads back what was saved last: got %+v want %+v", got, want)
	}
	other, err := s.GetSettings(f.ctx, conversations.NewID[conversations.TenantID]())
	must(t, err, "GetSettings(other tenant)")
	if other.Name != "" {
		t.Errorf("GetSettings: settings are per business: got %+v", other)
	}
}
