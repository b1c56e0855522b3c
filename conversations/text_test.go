package conversations_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/store"
)

func TestCheckLineAndText(t *testing.T) {
	for _, tc := range []struct {
		in         string
		line, text bool // accepted as a line, as a text
	}{
		{"J-1042", true, true},
		{"", true, true},
		{"Zoë — 日本", true, true},
		{"a\tb", false, true},
		{"two\r\nlines", false, true},
		{"nul\x00", false, false},
		{"\x00", false, false},
		{"bell\a", false, false},
		{"esc\x1b[31m", false, false},
		{"del\x7f", false, false},
		{"c1\u0085", false, false},
		{"\xff\xfe", false, false},
		{strings.Repeat("é", 10), true, true},
		{strings.Repeat("é", 11), false, false},
	} {
		lineErr := conversations.CheckLine("f", tc.in, 10)
		textErr := conversations.CheckText("f", tc.in, 10)
		assert.Equal(t, tc.line, lineErr == nil, "CheckLine(%q): %v", tc.in, lineErr)
		assert.Equal(t, tc.text, textErr == nil, "CheckText(%q): %v", tc.in, textErr)
		for _, err := range []error{lineErr, textErr} {
			if err == nil {
				continue
			}
			var fe *conversations.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "f", fe.Field, "the error names the field")
			assert.ErrorIs(t, err, conversations.ErrInvalid)
		}
	}
}

func TestCleanText(t *testing.T) {
	for in, want := range map[string]string{
		"When will you come?":    "When will you come?",
		"gate code\x00 1234":     "gate code 1234",
		"line one\r\nline two\t": "line one\r\nline two\t",
		"bad \xff byte":          "bad \ufffd byte",
		"\x1b[31mred\x7f":        "[31mred",
		"":                       "",
	} {
		got := conversations.CleanText(in)
		assert.Equal(t, want, got, "CleanText(%q)", in)
		assert.NoError(t, conversations.CheckText("body", got, conversations.MaxBodyRunes), "cleaned text passes the check")
	}
}

func TestValidateMediaURL(t *testing.T) {
	for _, tc := range []struct {
		url              string
		strict, withHTTP bool
	}{
		{"https://cdn.example.com/a.jpg", true, true},
		{"HTTPS://cdn.example.com/a.jpg", true, true},
		{"http://localhost:8080/a.jpg", false, true},
		{"file:///etc/passwd", false, false},
		{"file://host/etc/passwd", false, false},
		{"data:image/png;base64,AAAA", false, false},
		{"javascript:alert(1)", false, false},
		{"ftp://example.com/a", false, false},
		{"https:///nohost", false, false},
		{"/relative/a.jpg", false, false},
		{"https://cdn.example.com/a\x00.jpg", false, false},
		{"", false, false},
		{"https://e.com/" + strings.Repeat("a", conversations.MaxURLLength), false, false},
	} {
		assert.Equal(t, tc.strict, conversations.ValidateMediaURL(tc.url, false) == nil, "%q without http", tc.url)
		assert.Equal(t, tc.withHTTP, conversations.ValidateMediaURL(tc.url, true) == nil, "%q with http allowed", tc.url)
	}
	err := conversations.ValidateContent("see the photo", []conversations.Media{{URL: "file:///etc/passwd"}}, conversations.ContentRules{})
	var fe *conversations.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "media.url", fe.Field)
}

// TestNulNeverReachesTheDatabase gives every entry point of the Service a
// NUL (or another control character) in each text it takes, on both
// databases: each call is a *FieldError naming the field, and the database
// is unchanged.
func TestNulNeverReachesTheDatabase(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newSendWorld(t, db)
		customer := w.inbound(t, "+15005550999", "Hi, when will the tech get here?", "SM1")
		internal, err := w.svc.StartInternal(ctx, w.disp, conversations.StartInternal{Participants: []conversations.StaffID{w.tech1.Staff}})
		require.NoError(t, err)
		d, err := w.svc.SaveDraft(ctx, w.disp, conversations.Draft{Thread: customer.Thread, Body: "draft"})
		require.NoError(t, err)
		const nul = "x\x00y"
		bad := conversations.Viewer{Tenant: w.tenant, Staff: nul, Role: conversations.RoleDispatcher}
		before := testdb.Fingerprint(t, db)
		for _, tc := range []struct {
			field string
			call  func() error
		}{
			{"viewer.staff", func() error { _, err := w.svc.Inbox(ctx, bad, conversations.InboxQuery{}); return err }},
			{"viewer.tenant", func() error {
				_, err := w.svc.Badge(ctx, conversations.Viewer{Tenant: nul, Staff: "dana", Role: conversations.RoleAdmin})
				return err
			}},
			{"thread", func() error { _, err := w.svc.Thread(ctx, w.disp, nul); return err }},
			{"thread", func() error { _, err := w.svc.History(ctx, w.disp, nul, conversations.HistoryQuery{}); return err }},
			{"thread", func() error { _, err := w.svc.MarkRead(ctx, w.disp, nul, 0); return err }},
			{"body", func() error {
				_, err := w.svc.SendSMS(ctx, w.disp, conversations.SendSMS{Thread: customer.Thread, Body: nul, ClientID: "c1"})
				return err
			}},
			{"body", func() error {
				_, err := w.svc.SendSMS(ctx, w.disp, conversations.SendSMS{Thread: customer.Thread, Body: "ring \a", ClientID: "c1"})
				return err
			}},
			{"client_id", func() error {
				_, err := w.svc.SendSMS(ctx, w.disp, conversations.SendSMS{Thread: customer.Thread, Body: "hi", ClientID: nul})
				return err
			}},
			{"job", func() error {
				_, err := w.svc.SendSMS(ctx, w.disp, conversations.SendSMS{To: "+15005550998", Body: "hi", ClientID: "c2", Job: nul})
				return err
			}},
			{"draft", func() error {
				_, err := w.svc.SendSMS(ctx, w.disp, conversations.SendSMS{Thread: customer.Thread, Body: "hi", ClientID: "c3", Draft: nul})
				return err
			}},
			{"media.url", func() error {
				_, err := w.svc.SendSMS(ctx, w.disp, conversations.SendSMS{Thread: customer.Thread, Body: "hi", ClientID: "c4",
					Media: []conversations.Media{{URL: "file:///etc/passwd"}}})
				return err
			}},
			{"body", func() error {
				_, err := w.svc.SendInternal(ctx, w.disp, conversations.SendInternal{Thread: internal.ID, Body: nul, ClientID: "c5"})
				return err
			}},
			{"client_id", func() error {
				_, err := w.svc.SendInternal(ctx, w.disp, conversations.SendInternal{Thread: internal.ID, Body: "hi", ClientID: nul})
				return err
			}},
			{"subject", func() error {
				_, err := w.svc.StartInternal(ctx, w.disp, conversations.StartInternal{Participants: []conversations.StaffID{w.tech1.Staff}, Subject: nul})
				return err
			}},
			{"participants", func() error {
				_, err := w.svc.StartInternal(ctx, w.disp, conversations.StartInternal{Participants: []conversations.StaffID{nul}})
				return err
			}},
			{"job", func() error { _, err := w.svc.JobThread(ctx, w.disp, nul); return err }},
			{"body", func() error {
				_, err := w.svc.SaveDraft(ctx, w.disp, conversations.Draft{Thread: customer.Thread, Body: nul})
				return err
			}},
			{"client_id", func() error {
				_, err := w.svc.SaveDraft(ctx, w.disp, conversations.Draft{ID: d.ID, Version: d.Version, Thread: customer.Thread, Body: "b", ClientID: nul})
				return err
			}},
			{"draft", func() error { _, err := w.svc.Draft(ctx, w.disp, nul); return err }},
			{"draft", func() error { return w.svc.DeleteDraft(ctx, w.disp, nul) }},
			{"suggestion", func() error { return w.svc.DismissSuggestion(ctx, w.disp, nul) }},
			{"client_id", func() error {
				_, err := w.svc.UseSuggestion(ctx, w.disp, "s1", conversations.UseSuggestion{ClientID: nul})
				return err
			}},
			{"number", func() error { _, err := w.svc.NumberOwner(ctx, nul); return err }},
			{"name", func() error {
				return w.svc.PutStaff(ctx, conversations.Staff{Tenant: w.tenant, ID: "new", Name: nul, Role: conversations.RoleTechnician})
			}},
			{"name", func() error { return w.svc.PutSettings(ctx, conversations.Settings{Tenant: w.tenant, Name: nul}) }},
			{"staff", func() error { return w.svc.Assign(ctx, w.tenant, "J-1", nul) }},
			{"job", func() error { return w.svc.Unassign(ctx, w.tenant, nul, w.tech1.Staff) }},
			{"provider_id", func() error {
				_, _, err := w.svc.Receive(ctx, conversations.InboundMessage{Tenant: w.tenant, Channel: conversations.ChannelSMS,
					BusinessNumber: w.number, From: "+15005550999", Body: "hi", ProviderID: nul})
				return err
			}},
			{"provider_id", func() error {
				_, err := w.svc.ApplyStatus(ctx, conversations.StatusUpdate{Tenant: w.tenant, Channel: conversations.ChannelSMS,
					ProviderID: nul, Status: conversations.StatusDelivered})
				return err
			}},
			{"contact.name", func() error {
				_, err := w.svc.Escalate(ctx, conversations.Escalation{Tenant: w.tenant, Contact: conversations.Contact{Phone: "+15005550999", Name: nul},
					Summary: "call back", Key: "k1"})
				return err
			}},
			{"summary", func() error {
				_, err := w.svc.Escalate(ctx, conversations.Escalation{Tenant: w.tenant, Contact: conversations.Contact{Phone: "+15005550999"},
					Summary: nul, Key: "k2"})
				return err
			}},
			{"key", func() error {
				_, err := w.svc.SendWorkflow(ctx, conversations.WorkflowMessage{Tenant: w.tenant, Channel: conversations.ChannelSMS,
					Contact: conversations.Contact{Phone: "+15005550999"}, Body: "on our way", Key: nul})
				return err
			}},
			{"body", func() error {
				_, err := w.svc.SendWorkflow(ctx, conversations.WorkflowMessage{Tenant: w.tenant, Channel: conversations.ChannelSMS,
					Contact: conversations.Contact{Phone: "+15005550999"}, Body: nul, Key: "k3"})
				return err
			}},
		} {
			err := tc.call()
			var fe *conversations.FieldError
			if assert.ErrorAs(t, err, &fe, "%s: a *FieldError", tc.field) {
				assert.Equal(t, tc.field, fe.Field)
				assert.True(t, errors.Is(err, conversations.ErrInvalid))
			}
		}
		assert.Equal(t, before, testdb.Fingerprint(t, db), "refused input changed the database")
	})
}

// TestInboundTextIsCleanedNotRefused: a customer's SMS with a NUL, other
// control characters or invalid UTF-8 is kept, without them, on both
// databases (refusing it would lose the customer's message).
func TestInboundTextIsCleanedNotRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		m, created, err := w.svc.Receive(ctx, conversations.InboundMessage{
			Tenant: w.tenant, Channel: conversations.ChannelSMS, BusinessNumber: w.number,
			From: "+15005550999", Body: "gate code\x00 1234\x1b, \xffok?\nthanks", ProviderID: "SMnul",
		})
		require.NoError(t, err)
		require.True(t, created)
		want := "gate code 1234, \ufffdok?\nthanks"
		assert.Equal(t, want, m.Body)
		page, err := w.svc.History(ctx, w.disp, m.Thread, conversations.HistoryQuery{})
		require.NoError(t, err)
		require.Len(t, page.Messages, 1)
		assert.Equal(t, want, page.Messages[0].Body, "the stored body is the cleaned text")
	})
}
