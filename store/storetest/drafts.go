package storetest

import (
	"reflect"
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
)

func testDrafts(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	a := f.staff(conversations.RoleTechnician)
	b := f.staff(conversations.RoleTechnician)
	th := f.customer()

	d, err := s.PutDraft(f.ctx, conversations.Draft{Tenant: f.tenant, Author: a.ID, Thread: th.ID, Body: "Running late",
		Media: []conversations.Media{{URL: "https://example.com/x.png"}}, ClientID: "c-1"})
	must(t, err, "PutDraft(create)")
	if d.ID == "" || d.Version != 1 || d.CreatedAt.IsZero() || !d.UpdatedAt.Equal(d.CreatedAt) {
		t.Errorf("PutDraft: a new draft gets an id, Version 1 and its times: got %+v", d)
	}
	got, err := s.GetDraft(f.ctx, f.tenant, a.ID, d.ID)
	must(t, err, "GetDraft")
	if !reflect.DeepEqual(got, d) {
		t.Errorf("GetDraft: the stored draft reads back as returned by PutDraft:\n got %+v\nwant %+v", got, d)
	}
	_, err = s.GetDraft(f.ctx, f.tenant, b.ID, d.ID)
	wantErr(t, err, conversations.ErrNotFound, "GetDraft: another author cannot read a draft")
	list, err := s.ListDrafts(f.ctx, f.tenant, b.ID)
	must(t, err, "ListDrafts")
	if len(list) != 0 {
		t.Errorf("ListDrafts: another author's drafts are not listed: got %+v", list)
	}

	upd := d
	upd.Body, upd.To, upd.Thread = "Running 10 min late", "", th.ID
	d2, err := s.PutDraft(f.ctx, upd)
	must(t, err, "PutDraft(update)")
	if d2.Version != 2 || d2.Body != "Running 10 min late" || !d2.CreatedAt.Equal(d.CreatedAt) || d2.UpdatedAt.Before(d.UpdatedAt) {
		t.Errorf("PutDraft: an update with the stored Version bumps it and keeps CreatedAt: got %+v", d2)
	}
	_, err = s.PutDraft(f.ctx, upd) // still Version 1
	wantErr(t, err, conversations.ErrConflict, "PutDraft: a stale Version is ErrConflict")
	got, err = s.GetDraft(f.ctx, f.tenant, a.ID, d.ID)
	must(t, err, "GetDraft")
	if got.Version != 2 || got.Body != d2.Body {
		t.Errorf("PutDraft: a conflicting edit changes nothing: got %+v", got)
	}
	steal := d2
	steal.Author = b.ID
	_, err = s.PutDraft(f.ctx, steal)
	wantErr(t, err, conversations.ErrNotFound, "PutDraft: another author cannot update a draft")

	_, err = s.PutDraft(f.ctx, conversations.Draft{Tenant: f.tenant, Author: a.ID, To: "+15550001111", Body: "x", ClientID: "c-1"})
	wantErr(t, err, conversations.ErrConflict, "PutDraft: two drafts of one author cannot share a ClientID")
	other, err := s.PutDraft(f.ctx, conversations.Draft{Tenant: f.tenant, Author: b.ID, To: "+15550001111", Body: "x", ClientID: "c-1"})
	must(t, err, "PutDraft(other author, same client id)")
	second, err := s.PutDraft(f.ctx, conversations.Draft{Tenant: f.tenant, Author: a.ID, To: "+15550001111", Body: "new customer"})
	must(t, err, "PutDraft(create)")
	// The first draft is updated last, so it lists first.
	upd = d2
	upd.Body = "Running 15 min late"
	d3, err := s.PutDraft(f.ctx, upd)
	must(t, err, "PutDraft(update)")
	list, err = s.ListDrafts(f.ctx, f.tenant, a.ID)
	must(t, err, "ListDrafts")
	if len(list) != 2 || list[0].ID != d3.ID || list[1].ID != second.ID {
		t.Errorf("ListDrafts: the author's drafts, most recently updated first: got %+v", list)
	}

	err = s.DeleteDraft(f.ctx, f.tenant, b.ID, d.ID)
	wantErr(t, err, conversations.ErrNotFound, "DeleteDraft: another author cannot delete a draft")
	must(t, s.DeleteDraft(f.ctx, f.tenant, a.ID, d.ID), "DeleteDraft")
	_, err = s.GetDraft(f.ctx, f.tenant, a.ID, d.ID)
	wantErr(t, err, conversations.ErrNotFound, "DeleteDraft: a deleted draft is gone")
	err = s.DeleteDraft(f.ctx, f.tenant, a.ID, d.ID)
	wantErr(t, err, conversations.ErrNotFound, "DeleteDraft: deleting a missing draft is ErrNotFound")
	// The client id is free again once its draft is gone.
	_, err = s.PutDraft(f.ctx, conversations.Draft{Tenant: f.tenant, Author: a.ID, Body: "again", ClientID: "c-1"})
	must(t, err, "PutDraft(reuse client id)")
	if _, err := s.GetDraft(f.ctx, f.tenant, b.ID, other.ID); err != nil {
		t.Errorf("DeleteDraft: another author's drafts stay: %v", err)
	}
}
