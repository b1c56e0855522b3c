package storetest

import (
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
)

func testStaff(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	a := f.staff(conversations.RoleTechnician)
	b := f.staff(conversations.RoleDispatcher)

	got, err := s.GetStaff(f.ctx, f.tenant, a.ID)
	must(t, err, "GetStaff")
	if got.Name != a.Name || got.Role != a.Role || !got.CreatedAt.Equal(a.CreatedAt) || got.Tenant != f.tenant {
		t.Errorf("PutStaff/GetStaff: the stored staff member must read back as written: got %+v, want %+v", got, a)
	}

	// PutStaff updates in place and keeps CreatedAt.
	upd := a
	upd.Name, upd.Role, upd.CreatedAt = "Renamed", conversations.RoleAdmin, f.tick()
	must(t, s.PutStaff(f.ctx, upd), "PutStaff(update)")
	got, err = s.GetStaff(f.ctx, f.tenant, a.ID)
	must(t, err, "GetStaff")
	if got.Name != "Renamed" || got.Role != conversations.RoleAdmin {
		t.Errorf("PutStaff: an existing staff member must be updated: got %+v", got)
	}
	if !got.CreatedAt.Equal(a.CreatedAt) {
		t.Errorf("PutStaff: an update must keep CreatedAt %v, got %v", a.CreatedAt, got.CreatedAt)
	}

	list, err := s.ListStaff(f.ctx, f.tenant)
	must(t, err, "ListStaff")
	want := []conversations.StaffID{a.ID, b.ID}
	if a.ID > b.ID {
		want = []conversations.StaffID{b.ID, a.ID}
	}
	var gotIDs []conversations.StaffID
	for _, st := range list {
		gotIDs = append(gotIDs, st.ID)
	}
	if !equalIDs(gotIDs, want) {
		t.Errorf("ListStaff: the tenant's staff ordered by id: got %v, want %v", gotIDs, want)
	}

	_, err = s.GetStaff(f.ctx, f.tenant, "staff-missing")
	wantErr(t, err, conversations.ErrNotFound, "GetStaff: an unknown id is ErrNotFound")
	err = s.PutStaff(f.ctx, conversations.Staff{Tenant: f.tenant, ID: "x", Role: "boss"})
	wantErr(t, err, conversations.ErrInvalid, "PutStaff: an unknown role is ErrInvalid")
	err = s.PutStaff(f.ctx, conversations.Staff{Tenant: f.tenant, Role: conversations.RoleAdmin})
	wantErr(t, err, conversations.ErrInvalid, "PutStaff: an empty id is ErrInvalid")
}

func testNumbers(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	g := f.other()
	n1 := "+1555" + string(conversations.NewID[conversations.TenantID]())[:8] + "1"
	n2 := n1[:len(n1)-1] + "2"
	n3 := n1[:len(n1)-1] + "3"

	must(t, s.PutNumber(f.ctx, conversations.BusinessNumber{Tenant: f.tenant, Number: n1, Channel: conversations.ChannelSMS, Default: true}), "PutNumber")
	must(t, s.PutNumber(f.ctx, conversations.BusinessNumber{Tenant: f.tenant, Number: n2, Channel: conversations.ChannelSMS, MessagingService: "MG1"}), "PutNumber")

	owner, err := s.NumberOwner(f.ctx, n2)
	must(t, err, "NumberOwner")
	if owner.Tenant != f.tenant || owner.MessagingService != "MG1" || owner.Channel != conversations.ChannelSMS {
		t.Errorf("NumberOwner: must find the business a number is provisioned to: got %+v", owner)
	}
	_, err = s.NumberOwner(f.ctx, n3)
	wantErr(t, err, conversations.ErrNotFound, "NumberOwner: an unprovisioned number is ErrNotFound")

	err = s.PutNumber(f.ctx, conversations.BusinessNumber{Tenant: g.tenant, Number: n1, Channel: conversations.ChannelSMS})
	wantErr(t, err, conversations.ErrConflict, "PutNumber: a number provisioned to another tenant is ErrConflict")
	owner, err = s.NumberOwner(f.ctx, n1)
	must(t, err, "NumberOwner")
	if owner.Tenant != f.tenant || !owner.Default {
		t.Errorf("PutNumber: a refused provisioning must change nothing: got %+v", owner)
	}

	// A new default replaces the old one of the same channel.
	must(t, s.PutNumber(f.ctx, conversations.BusinessNumber{Tenant: f.tenant, Number: n2, Channel: conversations.ChannelSMS, Default: true}), "PutNumber(default)")
	list, err := s.ListNumbers(f.ctx, f.tenant)
	must(t, err, "ListNumbers")
	if len(list) != 2 {
		t.Fatalf("ListNumbers: want the tenant's 2 numbers, got %+v", list)
	}
	defaults := 0
	for _, n := range list {
		if n.Default {
			defaults++
		}
	}
	if defaults != 1 || list[0].Number != n2 || !list[0].Default {
		t.Errorf("PutNumber/ListNumbers: one default per tenant and channel, listed first: got %+v", list)
	}
	// An email sender address keeps its own default.
	must(t, s.PutNumber(f.ctx, conversations.BusinessNumber{Tenant: f.tenant, Number: "hello-" + n3 + "@example.com", Channel: conversations.ChannelEmail, Default: true}), "PutNumber(email)")
	list, err = s.ListNumbers(f.ctx, f.tenant)
	must(t, err, "ListNumbers")
	defaults = 0
	for _, n := range list {
		if n.Default {
			defaults++
		}
	}
	if defaults != 2 {
		t.Errorf("PutNumber: the default is per channel: want 2 defaults (sms, email), got %+v", list)
	}
	other, err := s.ListNumbers(f.ctx, g.tenant)
	must(t, err, "ListNumbers")
	if len(other) != 0 {
		t.Errorf("ListNumbers: another tenant's numbers must not be listed: got %+v", other)
	}
}

func testOptOut(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	g := f.other()
	addr := "+15557770001"

	_, out, err := s.OptedOut(f.ctx, f.tenant, addr)
	must(t, err, "OptedOut")
	if out {
		t.Errorf("OptedOut: an address that never texted STOP is not opted out")
	}
	stop := conversations.OptOut{Tenant: f.tenant, Address: addr, BusinessNumber: "+15550000000", Keyword: "STOP", OptedOut: true, At: f.tick()}
	must(t, s.RecordOptOut(f.ctx, stop), "RecordOptOut(STOP)")
	e, out, err := s.OptedOut(f.ctx, f.tenant, addr)
	must(t, err, "OptedOut")
	if !out || e.Keyword != "STOP" || !e.At.Equal(stop.At) || e.BusinessNumber != stop.BusinessNumber {
		t.Errorf("RecordOptOut: STOP must make the address opted out, with its entry: got %v %+v", out, e)
	}
	_, out, err = s.OptedOut(f.ctx, g.tenant, addr)
	must(t, err, "OptedOut")
	if out {
		t.Errorf("OptedOut: an opt-out is per tenant; another business must not see it")
	}
	start := conversations.OptOut{Tenant: f.tenant, Address: addr, BusinessNumber: "+15550000000", Keyword: "START", OptedOut: false, At: f.tick()}
	must(t, s.RecordOptOut(f.ctx, start), "RecordOptOut(START)")
	e, out, err = s.OptedOut(f.ctx, f.tenant, addr)
	must(t, err, "OptedOut")
	if out {
		t.Errorf("RecordOptOut: START after STOP must opt the address back in: got %+v", e)
	}
	must(t, s.RecordOptOut(f.ctx, conversations.OptOut{Tenant: f.tenant, Address: addr, Keyword: "UNSUBSCRIBE", OptedOut: true, At: f.tick()}), "RecordOptOut")
	e, out, err = s.OptedOut(f.ctx, f.tenant, addr)
	must(t, err, "OptedOut")
	if !out || e.Keyword != "UNSUBSCRIBE" {
		t.Errorf("RecordOptOut: the latest entry is the current state: got %v %+v", out, e)
	}
	err = s.RecordOptOut(f.ctx, conversations.OptOut{Tenant: f.tenant, OptedOut: true})
	wantErr(t, err, conversations.ErrInvalid, "RecordOptOut: an empty address is ErrInvalid")
}
