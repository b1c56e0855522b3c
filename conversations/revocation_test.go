package conversations_test

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
)

// revocations are the three ways a technician loses a customer thread. Each
// gives Tom (w.tech1) the thread of a suggestWorld his way, and takes it away.
var revocations = []struct {
	name   string
	grant  func(t *testing.T, w *suggestWorld) // after newSuggestWorld: Tom is assigned to the linked job
	revoke func(t *testing.T, w *suggestWorld)
}{
	{
		name:  "unassign",
		grant: func(*testing.T, *suggestWorld) {},
		revoke: func(t *testing.T, w *suggestWorld) {
			require.NoError(t, w.svc.Unassign(context.Background(), w.tenant, w.job.ID, w.tech1.Staff))
		},
	},
	{
		name:  "unlink job",
		grant: func(*testing.T, *suggestWorld) {},
		revoke: func(t *testing.T, w *suggestWorld) {
			require.NoError(t, w.svc.UnlinkJob(context.Background(), w.disp, w.thread, w.job.ID))
		},
	},
	{
		name: "remove participant",
		grant: func(t *testing.T, w *suggestWorld) {
			ctx := context.Background()
			require.NoError(t, w.svc.Unassign(ctx, w.tenant, w.job.ID, w.tech1.Staff))
			require.NoError(t, w.svc.AddParticipants(ctx, w.disp, w.thread, w.tech1.Staff))
		},
		revoke: func(t *testing.T, w *suggestWorld) {
			require.NoError(t, w.svc.RemoveParticipant(context.Background(), w.disp, w.thread, w.tech1.Staff))
		},
	},
}

// TestRevocationIsImmediateEverywhere: after each revocation, every read of
// the thread by the technician is refused at once, on both databases: the
// inbox, the badge, the thread, its history, suggestions (new and already
// offered), drafts on it, replies, reads, and the check the notifiers make
// as an event leaves (ThreadAccess: the stream's replay and live events,
// push).
func TestRevocationIsImmediateEverywhere(t *testing.T) {
	for _, rv := range revocations {
		t.Run(rv.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				w := newSuggestWorld(t, db, rulesSuggester(t))
				rv.grant(t, w)
				tom := w.tech1
				access, err := conversations.NewThreadAccess(testdb.Under(db), policy.Default())
				require.NoError(t, err)

				// Before: Tom sees the thread everywhere.
				require.Contains(t, inboxIDs(t, w.svc, tom, conversations.FilterAll), w.thread)
				require.EqualValues(t, 1, badge(t, w.svc, tom))
				ss, err := w.svc.Suggestions(ctx, tom, w.thread)
				require.NoError(t, err)
				require.NotEmpty(t, ss)
				draft, err := w.svc.SaveDraft(ctx, tom, conversations.Draft{Thread: w.thread, Body: "Running late"})
				require.NoError(t, err)
				other, err := w.svc.SaveDraft(ctx, tom, conversations.Draft{To: "+15005550777", Body: "Hello"})
				require.NoError(t, err)
				seen, err := access.VisibleThreads(ctx, w.tenant, tom.Staff, []conversations.ThreadID{w.thread})
				require.NoError(t, err)
				require.Equal(t, []conversations.ThreadID{w.thread}, seen)

				rv.revoke(t, w)

				assert.NotContains(t, inboxIDs(t, w.svc, tom, conversations.FilterAll), w.thread, "inbox")
				assert.Zero(t, badge(t, w.svc, tom), "badge")
				_, err = w.svc.Thread(ctx, tom, w.thread)
				assert.ErrorIs(t, err, conversations.ErrForbidden, "thread")
				_, err = w.svc.History(ctx, tom, w.thread, conversations.HistoryQuery{})
				assert.ErrorIs(t, err, conversations.ErrForbidden, "history")
				_, err = w.svc.Suggestions(ctx, tom, w.thread)
				assert.ErrorIs(t, err, conversations.ErrForbidden, "suggestions")
				_, err = w.svc.UseSuggestion(ctx, tom, ss[0].ID, conversations.UseSuggestion{ClientID: "tom/1"})
				assert.ErrorIs(t, err, conversations.ErrForbidden, "a suggestion offered before")
				_, err = w.svc.Draft(ctx, tom, draft.ID)
				assert.ErrorIs(t, err, conversations.ErrForbidden, "a draft on the thread")
				ds, err := w.svc.Drafts(ctx, tom)
				require.NoError(t, err)
				assert.Equal(t, []conversations.DraftID{other.ID}, draftIDs(ds), "drafts list only what Tom may still see")
				draft.Body = "Running very late"
				_, err = w.svc.SaveDraft(ctx, tom, draft)
				assert.ErrorIs(t, err, conversations.ErrForbidden, "editing a draft on the thread")
				_, err = w.svc.SendSMS(ctx, tom, conversations.SendSMS{Thread: w.thread, Body: "On my way", ClientID: "tom/2"})
				assert.ErrorIs(t, err, conversations.ErrForbidden, "reply")
				_, err = w.svc.MarkRead(ctx, tom, w.thread, 1)
				assert.ErrorIs(t, err, conversations.ErrForbidden, "read")
				seen, err = access.VisibleThreads(ctx, w.tenant, tom.Staff, []conversations.ThreadID{w.thread})
				require.NoError(t, err)
				assert.Empty(t, seen, "what the stream and push ask as an event leaves")
				require.NoError(t, w.svc.DeleteDraft(ctx, tom, draft.ID), "Tom may still throw his draft away")

				// The dispatcher still sees it all, and a new message tells Tom nothing.
				_, err = w.svc.Thread(ctx, w.disp, w.thread)
				require.NoError(t, err)
				w.notes.take()
				w.inbound(t, suggestCustomer, "Hello?", "SMq2")
				for _, n := range w.notes.take() {
					assert.NotEqual(t, tom.Staff, n.Recipient, "a new message is not notified to Tom")
				}
			})
		})
	}
}

func draftIDs(ds []conversations.Draft) []conversations.DraftID {
	var out []conversations.DraftID
	for _, d := range ds {
		out = append(out, d.ID)
	}
	slices.Sort(out)
	return out
}
