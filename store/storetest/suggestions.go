package storetest

import (
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
)

func testSuggestions(t *testing.T, s conversations.FastStore) {
	f := newFixture(t, s)
	a := f.staff(conversations.RoleDispatcher)
	b := f.staff(conversations.RoleDispatcher)
	th := f.customer()
	msg := conversations.NewID[conversations.MessageID]()
	offer := func(viewer conversations.StaffID, texts ...string) []conversations.Suggestion {
		var ss []conversations.Suggestion
		for _, text := range texts {
			ss = append(ss, conversations.Suggestion{
				ID: conversations.NewID[conversations.SuggestionID](), Tenant: f.tenant, Thread: th.ID, ForMessage: msg,
				Viewer: viewer, Text: text, Intent: conversations.IntentETA, Confidence: 0.8, Source: "rules",
			})
		}
		return ss
	}
	ss := offer(a.ID, "On my way", "Running 10 min late", "I'll check and text you back")
	must(t, s.PutSuggestions(f.ctx, ss), "PutSuggestions")
	got, err := s.Suggestions(f.ctx, f.tenant, a.ID, msg)
	must(t, err, "Suggestions")
	if len(got) != 3 || got[0].Text != "On my way" || got[2].Text != "I'll check and text you back" {
		t.Fatalf("Suggestions: returns what was offered, in order: got %+v", got)
	}
	for _, g := range got {
		if g.State != conversations.SuggestionOffered || g.CreatedAt.IsZero() {
			t.Errorf("PutSuggestions: stored as offered with a time: got %+v", g)
		}
	}
	other, err := s.Suggestions(f.ctx, f.tenant, b.ID, msg)
	must(t, err, "Suggestions(other viewer)")
	if len(other) != 0 {
		t.Errorf("Suggestions: a viewer sees only what was offered to them: got %+v", other)
	}
	_, err = s.GetSuggestion(f.ctx, f.tenant, b.ID, ss[0].ID)
	wantErr(t, err, conversations.ErrNotFound, "GetSuggestion: another viewer's suggestion")
	_, err = s.GetSuggestion(f.ctx, conversations.NewID[conversations.TenantID](), a.ID, ss[0].ID)
	wantErr(t, err, conversations.ErrNotFound, "GetSuggestion: another tenant")

	sent := conversations.NewID[conversations.MessageID]()
	used, err := s.SetSuggestionState(f.ctx, f.tenant, a.ID, ss[0].ID, conversations.SuggestionEdited, sent)
	must(t, err, "SetSuggestionState(edited)")
	if used.State != conversations.SuggestionEdited || used.Sent != sent {
		t.Errorf("SetSuggestionState: records the state and the sent message: got %+v", used)
	}
	_, err = s.SetSuggestionState(f.ctx, f.tenant, a.ID, ss[0].ID, conversations.SuggestionEdited, sent)
	must(t, err, "SetSuggestionState: repeating the same change is a no-op")
	_, err = s.SetSuggestionState(f.ctx, f.tenant, a.ID, ss[0].ID, conversations.SuggestionDismissed, "")
	wantErr(t, err, conversations.ErrConflict, "SetSuggestionState: a used suggestion cannot be dismissed")
	_, err = s.SetSuggestionState(f.ctx, f.tenant, b.ID, ss[1].ID, conversations.SuggestionDismissed, "")
	wantErr(t, err, conversations.ErrNotFound, "SetSuggestionState: another viewer's suggestion")
	_, err = s.SetSuggestionState(f.ctx, f.tenant, a.ID, ss[1].ID, conversations.SuggestionOffered, "")
	wantErr(t, err, conversations.ErrInvalid, "SetSuggestionState: back to offered")
	d, err := s.SetSuggestionState(f.ctx, f.tenant, a.ID, ss[1].ID, conversations.SuggestionDismissed, "")
	must(t, err, "SetSuggestionState(dismissed)")
	if d.State != conversations.SuggestionDismissed {
		t.Errorf("SetSuggestionState: dismissed: got %+v", d)
	}
	mixed := append(offer(a.ID, "x"), offer(b.ID, "y")...)
	wantErr(t, s.PutSuggestions(f.ctx, mixed), conversations.ErrInvalid, "PutSuggestions: one batch is for one viewer")
}
