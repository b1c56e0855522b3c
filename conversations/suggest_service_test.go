package conversations_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
	"github.com/fieldtalk/fieldtalk/suggest/rules"
)

// suggestNow is 8 AM in Chicago on the day of the job, as the rules see it.
var suggestNow = time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)

// countingSuggester counts the calls that reach the Suggester it wraps and
// keeps the last request.
type countingSuggester struct {
	next  conversations.Suggester
	calls atomic.Int32
	mu    sync.Mutex
	last  conversations.SuggestRequest
}

func (c *countingSuggester) Suggest(ctx context.Context, req conversations.SuggestRequest) ([]conversations.Suggestion, error) {
	c.calls.Add(1)
	c.mu.Lock()
	c.last = req
	c.mu.Unlock()
	return c.next.Suggest(ctx, req)
}

func (c *countingSuggester) request() conversations.SuggestRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// suggesterFunc is a Suggester made of a function, for faults.
type suggesterFunc func(context.Context, conversations.SuggestRequest) ([]conversations.Suggestion, error)

func (f suggesterFunc) Suggest(ctx context.Context, req conversations.SuggestRequest) ([]conversations.Suggestion, error) {
	return f(ctx, req)
}

func rulesSuggester(t *testing.T) *rules.Suggester {
	t.Helper()
	r, err := rules.New(rules.Config{}, rules.WithClock(func() time.Time { return suggestNow }))
	require.NoError(t, err)
	return r
}

// suggestWorld is a sendWorld whose Service has a Suggester, with a customer
// thread linked to a job kept in the table-backed Jobs, and the customer's
// question in it.
type suggestWorld struct {
	*sendWorld
	sugg   *countingSuggester
	job    conversations.JobContext
	thread conversations.ThreadID
	in     conversations.Message // the customer's question
}

const suggestCustomer = "+15005550999"

func newSuggestWorld(t *testing.T, db *store.DB, sg conversations.Suggester) *suggestWorld {
	t.Helper()
	ctx := context.Background()
	sw := newSendWorld(t, db)
	w := &suggestWorld{sendWorld: sw, sugg: &countingSuggester{next: sg}}
	w.svc = w.service(t, w.sugg)
	w.job = conversations.JobContext{
		Tenant: w.tenant, ID: "job-1", Title: "Water heater repair", Status: "scheduled",
		WindowStart: time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC), // 9 AM in Chicago
		WindowEnd:   time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC),
		ETA:         time.Date(2026, 11, 27, 15, 30, 0, 0, time.UTC), // 9:30 AM
		Address:     "12 Birch Lane", Technician: "Tom Baker", Business: "Birchwood Plumbing",
		Customer: conversations.Contact{Phone: suggestCustomer, Name: "Maria Lopez"},
		TimeZone: "America/Chicago",
	}
	require.NoError(t, db.PutJob(ctx, w.job))
	w.in = w.inbound(t, suggestCustomer, "Hi, when will the tech get here?", "SMq1")
	w.thread = w.in.Thread
	require.NoError(t, w.svc.LinkJob(ctx, w.disp, w.thread, w.job.ID))
	require.NoError(t, w.svc.Assign(ctx, w.tenant, w.job.ID, w.tech1.Staff))
	return w
}

// service returns a Service like the world's, with sg as its Suggester.
func (w *suggestWorld) service(t *testing.T, sg conversations.Suggester) *conversations.Service {
	t.Helper()
	clk := &clock{now: suggestNow}
	svc, err := conversations.NewService(conversations.Config{
		Store: newMemQueue(w.db, w.outbox), Policy: policy.Default(), Notifier: w.notes, Jobs: w.db, Suggester: sg,
		Channels: []conversations.Channel{w.sms}, Clock: clk.Now,
	})
	require.NoError(t, err)
	return svc
}

func (w *suggestWorld) suggestions(t *testing.T, v conversations.Viewer) []conversations.Suggestion {
	t.Helper()
	ss, err := w.svc.Suggestions(context.Background(), v, w.thread)
	require.NoError(t, err)
	return ss
}

func (w *suggestWorld) stored(t *testing.T, v conversations.Viewer, forMessage conversations.MessageID) []conversations.Suggestion {
	t.Helper()
	ss, err := w.db.Suggestions(context.Background(), w.tenant, v.Staff, forMessage)
	require.NoError(t, err)
	return ss
}

func (w *suggestWorld) state(t *testing.T, v conversations.Viewer, id conversations.SuggestionID) conversations.Suggestion {
	t.Helper()
	sg, err := w.db.GetSuggestion(context.Background(), w.tenant, v.Staff, id)
	require.NoError(t, err)
	return sg
}

func suggestionIDs(ss []conversations.Suggestion) []conversations.SuggestionID {
	ids := make([]conversations.SuggestionID, len(ss))
	for i, s := range ss {
		ids[i] = s.ID
	}
	return ids
}

func TestSuggestionsAnswerTheNewestCustomerMessage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newSuggestWorld(t, db, rulesSuggester(t))

		ss := w.suggestions(t, w.disp)
		require.Len(t, ss, conversations.MaxSuggestions)
		seen := map[conversations.SuggestionID]bool{}
		var texts []string
		for _, s := range ss {
			assert.False(t, seen[s.ID], "each suggestion has its own id")
			seen[s.ID] = true
			assert.Equal(t, w.tenant, s.Tenant)
			assert.Equal(t, w.thread, s.Thread)
			assert.Equal(t, w.in.ID, s.ForMessage, "suggestions answer the customer's newest message")
			assert.Equal(t, w.disp.Staff, s.Viewer)
			assert.Equal(t, conversations.SuggestionOffered, s.State)
			assert.Equal(t, rules.Source, s.Source)
			assert.False(t, s.CreatedAt.IsZero())
			texts = append(texts, s.Text)
		}
		assert.Contains(t, strings.Join(texts, "\n"), "9:30", "the job's ETA, in its time zone, is in a reply: %q", texts)

		req := w.sugg.request()
		require.NotNil(t, req.Job, "the thread's linked job gives the context")
		assert.Equal(t, w.job.ID, req.Job.ID)
		assert.Equal(t, w.job.Business, req.Business)
		assert.Equal(t, "Dana", req.Author.Name, "the viewer's staff record signs replies")
		assert.Equal(t, w.disp, req.Viewer)
		assert.Equal(t, []conversations.JobID{w.job.ID}, req.Thread.Jobs, "the thread comes with its jobs")
		assert.Equal(t, []conversations.StaffID{w.tech1.Staff}, req.Thread.Assignees)
		last, ok := req.LastInbound()
		require.True(t, ok)
		assert.Equal(t, w.in.ID, last.ID)

		again := w.suggestions(t, w.disp)
		assert.Equal(t, suggestionIDs(ss), suggestionIDs(again), "a reload offers the same suggestions")
		assert.EqualValues(t, 1, w.sugg.calls.Load(), "and does not ask the Suggester again")
		assert.Len(t, w.stored(t, w.disp, w.in.ID), len(ss), "stored once")

		admin := w.suggestions(t, w.admin)
		require.Len(t, admin, conversations.MaxSuggestions)
		assert.NotEqual(t, suggestionIDs(ss), suggestionIDs(admin), "each viewer gets their own suggestions")
		assert.Equal(t, "Alex", w.sugg.request().Author.Name)

		// The customer writes again: the old suggestions go stale.
		newer := w.inbound(t, suggestCustomer, "Also, do you take credit cards?", "SMq2")
		fresh := w.suggestions(t, w.disp)
		require.NotEmpty(t, fresh)
		for _, s := range fresh {
			assert.Equal(t, newer.ID, s.ForMessage, "a newer customer message gets new suggestions")
			assert.NotContains(t, suggestionIDs(ss), s.ID)
		}
		assert.EqualValues(t, 3, w.sugg.calls.Load())
		_, err := w.svc.UseSuggestion(ctx, w.disp, ss[0].ID, conversations.UseSuggestion{ClientID: "c-old"})
		assert.ErrorIs(t, err, conversations.ErrConflict, "a suggestion for an older customer message")
		assert.Empty(t, w.outbox.deliveries(), "a refused suggestion sends nothing")
		assert.Equal(t, conversations.SuggestionOffered, w.state(t, w.disp, ss[0].ID).State)
		_, err = w.svc.UseSuggestion(ctx, w.disp, fresh[0].ID, conversations.UseSuggestion{ClientID: "c-new"})
		require.NoError(t, err, "the current one goes")

		// Staff replying does not make the customer's message stale.
		m, err := w.svc.SendSMS(ctx, w.disp, conversations.SendSMS{Thread: w.thread, Body: "One moment please"})
		require.NoError(t, err)
		_, err = w.svc.UseSuggestion(ctx, w.disp, fresh[1].ID, conversations.UseSuggestion{ClientID: "c-new-2"})
		require.NoError(t, err, "a reply after %s still answers the customer's newest message", m.ID)
	})
}

func TestSuggestionsWithoutJobContext(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newSuggestWorld(t, db, rulesSuggester(t))
		require.NoError(t, w.svc.UnlinkJob(ctx, w.disp, w.thread, w.job.ID))
		// A job the CRM has forgotten since it was linked (the Service links
		// only jobs the CRM knows).
		require.NoError(t, w.db.LinkJob(ctx, w.tenant, w.thread, "job-unknown"))
		ss := w.suggestions(t, w.disp)
		assert.NotEmpty(t, ss, "a job the CRM does not know is no error")
		assert.Nil(t, w.sugg.request().Job)
		for _, s := range ss {
			assert.NotContains(t, s.Text, "9:30", "no context, no ETA")
		}

		// A host without Jobs.
		svc, err := conversations.NewService(conversations.Config{
			Store: newMemQueue(db, w.outbox), Policy: policy.Default(), Suggester: w.sugg})
		require.NoError(t, err)
		ss, err = svc.Suggestions(ctx, w.admin, w.thread)
		require.NoError(t, err)
		assert.NotEmpty(t, ss)
		assert.Nil(t, w.sugg.request().Job)
	})
}

func TestUseSuggestion(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newSuggestWorld(t, db, rulesSuggester(t))
		other := newWorld(t, db)
		ss := w.suggestions(t, w.disp)
		require.Len(t, ss, 3)

		_, err := w.svc.UseSuggestion(ctx, w.disp, ss[0].ID, conversations.UseSuggestion{})
		assert.ErrorIs(t, err, conversations.ErrInvalid, "no client id: a retry could send twice")
		_, err = w.svc.UseSuggestion(ctx, w.admin, ss[0].ID, conversations.UseSuggestion{ClientID: "c1"})
		assert.ErrorIs(t, err, conversations.ErrNotFound, "another viewer's suggestion")
		// The other business has a staff member with the same id.
		_, err = w.svc.UseSuggestion(ctx, other.disp, ss[0].ID, conversations.UseSuggestion{ClientID: "c1"})
		assert.ErrorIs(t, err, conversations.ErrNotFound, "another business's suggestion")
		_, err = w.svc.UseSuggestion(ctx, w.disp, "", conversations.UseSuggestion{ClientID: "c1"})
		assert.ErrorIs(t, err, conversations.ErrInvalid)
		assert.Empty(t, w.outbox.deliveries())

		// Unedited.
		use := conversations.UseSuggestion{ClientID: "c1"}
		m, err := w.svc.UseSuggestion(ctx, w.disp, ss[0].ID, use)
		require.NoError(t, err)
		assert.Equal(t, ss[0].Text, m.Body, "the suggestion's text is sent as offered")
		assert.Equal(t, conversations.StatusQueued, m.Status)
		assert.Equal(t, w.thread, m.Thread)
		assert.Equal(t, suggestCustomer, m.To)
		got := w.state(t, w.disp, ss[0].ID)
		assert.Equal(t, conversations.SuggestionUsed, got.State)
		assert.Equal(t, m.ID, got.Sent)
		require.Len(t, w.outbox.deliveries(), 1)

		again, err := w.svc.UseSuggestion(ctx, w.disp, ss[0].ID, use)
		require.NoError(t, err, "a repeat")
		assert.Equal(t, m.ID, again.ID, "returns the first message")
		again, err = w.svc.UseSuggestion(ctx, w.disp, ss[0].ID, conversations.UseSuggestion{Body: ss[0].Text, ClientID: "c1"})
		require.NoError(t, err, "the suggestion's own text is the unedited use")
		assert.Equal(t, m.ID, again.ID)
		assert.Len(t, w.outbox.deliveries(), 1, "a repeat sends nothing")
		_, err = w.svc.UseSuggestion(ctx, w.disp, ss[0].ID, conversations.UseSuggestion{ClientID: "c1-other-device"})
		assert.ErrorIs(t, err, conversations.ErrConflict, "a suggestion is used once")
		_, err = w.svc.UseSuggestion(ctx, w.disp, ss[0].ID, conversations.UseSuggestion{Body: "something else", ClientID: "c1"})
		assert.ErrorIs(t, err, conversations.ErrConflict, "the same client id with other content")

		// Edited.
		edit := conversations.UseSuggestion{Body: ss[1].Text + " Thanks for your patience!", ClientID: "c2"}
		m2, err := w.svc.UseSuggestion(ctx, w.disp, ss[1].ID, edit)
		require.NoError(t, err)
		assert.Equal(t, edit.Body, m2.Body, "the edit is sent")
		got = w.state(t, w.disp, ss[1].ID)
		assert.Equal(t, conversations.SuggestionEdited, got.State)
		assert.Equal(t, m2.ID, got.Sent)
		again, err = w.svc.UseSuggestion(ctx, w.disp, ss[1].ID, edit)
		require.NoError(t, err)
		assert.Equal(t, m2.ID, again.ID)
		require.Len(t, w.outbox.deliveries(), 2)

		for i, d := range w.outbox.deliveries() {
			require.NoError(t, w.deliver(t, w.message(t, d.Message), i+1, false))
		}
		assert.Equal(t, 2, w.sms.ProviderCalls(), "one SMS per suggestion used")

		left := w.suggestions(t, w.disp)
		assert.Equal(t, []conversations.SuggestionID{ss[2].ID}, suggestionIDs(left), "used and edited suggestions are not offered again")
		assert.EqualValues(t, 1, w.sugg.calls.Load(), "the Suggester was asked once")
	})
}

func TestUseSuggestionRechecksTheThread(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newSuggestWorld(t, db, rulesSuggester(t))
		ss := w.suggestions(t, w.tech1)
		require.NotEmpty(t, ss, "a technician assigned to the thread's job")
		assert.Equal(t, "Tom", w.sugg.request().Author.Name)

		require.NoError(t, w.svc.Unassign(ctx, w.tenant, w.job.ID, w.tech1.Staff))
		_, err := w.svc.UseSuggestion(ctx, w.tech1, ss[0].ID, conversations.UseSuggestion{ClientID: "c1"})
		assert.ErrorIs(t, err, conversations.ErrForbidden, "a technician taken off the job")
		_, err = w.svc.Suggestions(ctx, w.tech1, w.thread)
		assert.ErrorIs(t, err, conversations.ErrForbidden)

		// The customer opts out: nothing could be sent, so nothing is offered.
		w.inbound(t, suggestCustomer, "STOP", "SMstop")
		calls := w.sugg.calls.Load()
		assert.Empty(t, w.suggestions(t, w.disp))
		assert.Equal(t, calls, w.sugg.calls.Load())
		assert.Empty(t, w.outbox.deliveries())
	})
}

func TestDismissSuggestion(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newSuggestWorld(t, db, rulesSuggester(t))
		ss := w.suggestions(t, w.disp)
		require.Len(t, ss, 3)

		require.NoError(t, w.svc.DismissSuggestion(ctx, w.disp, ss[0].ID))
		require.NoError(t, w.svc.DismissSuggestion(ctx, w.disp, ss[0].ID), "dismissing twice is harmless")
		assert.Equal(t, conversations.SuggestionDismissed, w.state(t, w.disp, ss[0].ID).State)
		assert.Equal(t, suggestionIDs(ss[1:]), suggestionIDs(w.suggestions(t, w.disp)), "a dismissed suggestion is not offered again")
		assert.EqualValues(t, 1, w.sugg.calls.Load())

		assert.ErrorIs(t, w.svc.DismissSuggestion(ctx, w.admin, ss[1].ID), conversations.ErrNotFound, "another viewer's suggestion")
		assert.ErrorIs(t, w.svc.DismissSuggestion(ctx, newWorld(t, db).disp, ss[1].ID), conversations.ErrNotFound, "another business")
		assert.ErrorIs(t, w.svc.DismissSuggestion(ctx, w.disp, ""), conversations.ErrInvalid)
		assert.Equal(t, conversations.SuggestionOffered, w.state(t, w.disp, ss[1].ID).State)

		_, err := w.svc.UseSuggestion(ctx, w.disp, ss[0].ID, conversations.UseSuggestion{ClientID: "c1"})
		assert.ErrorIs(t, err, conversations.ErrConflict, "a dismissed suggestion is not sent")
		assert.Empty(t, w.outbox.deliveries())

		_, err = w.svc.UseSuggestion(ctx, w.disp, ss[1].ID, conversations.UseSuggestion{ClientID: "c2"})
		require.NoError(t, err)
		assert.ErrorIs(t, w.svc.DismissSuggestion(ctx, w.disp, ss[1].ID), conversations.ErrConflict, "a used suggestion stays used")

		require.NoError(t, w.svc.DismissSuggestion(ctx, w.disp, ss[2].ID))
		assert.Empty(t, w.suggestions(t, w.disp), "all dismissed or used: nothing is offered")
		assert.EqualValues(t, 1, w.sugg.calls.Load(), "and nothing is made again for the same message")
	})
}

func TestSuggestionsRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newSuggestWorld(t, db, rulesSuggester(t))
		other := newWorld(t, db)

		_, err := w.svc.Suggestions(ctx, w.tech2, w.thread)
		assert.ErrorIs(t, err, conversations.ErrForbidden, "a technician who may not see the thread")
		for _, v := range []conversations.Viewer{other.disp, other.admin} {
			_, err = w.svc.Suggestions(ctx, v, w.thread)
			assert.ErrorIs(t, err, conversations.ErrNotFound, "another business")
		}
		_, err = w.svc.Suggestions(ctx, w.disp, conversations.NewID[conversations.ThreadID]())
		assert.ErrorIs(t, err, conversations.ErrNotFound, "an unknown thread")
		_, err = w.svc.Suggestions(ctx, w.disp, "")
		assert.ErrorIs(t, err, conversations.ErrInvalid)

		internal, err := w.svc.StartInternal(ctx, w.disp, conversations.StartInternal{Participants: []conversations.StaffID{w.tech1.Staff}})
		require.NoError(t, err)
		_, err = w.svc.SendInternal(ctx, w.tech1, conversations.SendInternal{Thread: internal.ID, Body: "when is the customer home?"})
		require.NoError(t, err)
		_, err = w.svc.Suggestions(ctx, w.disp, internal.ID)
		assert.ErrorIs(t, err, conversations.ErrInvalid, "an internal thread")

		noSuggester, err := conversations.NewService(conversations.Config{Store: testdb.Under(db), Policy: policy.Default(), Jobs: db})
		require.NoError(t, err)
		_, err = noSuggester.Suggestions(ctx, w.disp, w.thread)
		require.ErrorIs(t, err, conversations.ErrInvalid, "a Service without a Suggester")
		var fe *conversations.FieldError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, "config.suggester", fe.Field)

		// A thread the business started has no customer message to answer.
		out, err := w.svc.SendSMS(ctx, w.disp, conversations.SendSMS{To: "+15005550123", Body: "Your appointment is confirmed"})
		require.NoError(t, err)
		ss, err := w.svc.Suggestions(ctx, w.disp, out.Thread)
		require.NoError(t, err)
		assert.NotNil(t, ss)
		assert.Empty(t, ss, "nothing to answer is an empty list")

		assert.Zero(t, w.sugg.calls.Load(), "none of these reached the Suggester")
		assert.Empty(t, w.stored(t, w.disp, w.in.ID))
	})
}

func TestSuggesterFailuresStoreNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newSuggestWorld(t, db, rulesSuggester(t))
		good := func(n int) []conversations.Suggestion {
			var ss []conversations.Suggestion
			for i := range n {
				ss = append(ss, conversations.Suggestion{Text: "Reply " + string(rune('A'+i)), Intent: conversations.IntentOther, Confidence: 0.5})
			}
			return ss
		}
		for _, tc := range []struct {
			name   string
			answer []conversations.Suggestion
			err    error
		}{
			{"errs", nil, errors.New("model endpoint down")},
			{"errs with ErrInvalid", nil, conversations.Invalid("messages", "the model did not like it")},
			{"one suggestion", good(1), nil},
			{"four suggestions", good(4), nil},
			{"blank text", append(good(2), conversations.Suggestion{Text: "  ", Intent: conversations.IntentOther}), nil},
			{"same text twice", append(good(2), conversations.Suggestion{Text: "reply  a", Intent: conversations.IntentOther}), nil},
			{"oversize text", append(good(2), conversations.Suggestion{Text: strings.Repeat("x", conversations.MaxSuggestionLength+1)}), nil},
		} {
			svc := w.service(t, suggesterFunc(func(context.Context, conversations.SuggestRequest) ([]conversations.Suggestion, error) {
				return tc.answer, tc.err
			}))
			_, err := svc.Suggestions(ctx, w.disp, w.thread)
			assert.ErrorIs(t, err, conversations.ErrUnavailable, tc.name)
			assert.NotErrorIs(t, err, conversations.ErrInvalid, "%s: the caller's request was fine", tc.name)
		}

		// A Suggester that hangs, ignoring its context: the caller's
		// deadline holds all the same.
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		hung := w.service(t, suggesterFunc(func(context.Context, conversations.SuggestRequest) ([]conversations.Suggestion, error) {
			<-release
			return good(3), nil
		}))
		dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := hung.Suggestions(dctx, w.disp, w.thread)
		assert.ErrorIs(t, err, context.DeadlineExceeded, "a hanging Suggester")
		assert.Less(t, time.Since(start), 2*time.Second, "the Service does not wait for it")

		assert.Empty(t, w.stored(t, w.disp, w.in.ID), "a failed Suggester stores nothing")

		// Afterwards a working Suggester answers as usual.
		assert.Len(t, w.suggestions(t, w.disp), 3)
	})
}

// TestSuggesterBudget waits out the Service's own budget, so it runs in
// parallel with the rest.
func TestSuggesterBudget(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		w := newSuggestWorld(t, db, rulesSuggester(t))
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		hung := w.service(t, suggesterFunc(func(context.Context, conversations.SuggestRequest) ([]conversations.Suggestion, error) {
			<-release
			return nil, errors.New("too late")
		}))
		start := time.Now()
		_, err := hung.Suggestions(context.Background(), w.disp, w.thread)
		assert.ErrorIs(t, err, conversations.ErrUnavailable, "a Suggester slower than the budget")
		assert.Less(t, time.Since(start), 10*time.Second)
		assert.Empty(t, w.stored(t, w.disp, w.in.ID))
	})
}

func TestConcurrentSuggestionsAgree(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newSuggestWorld(t, db, rulesSuggester(t))
		// Both calls reach the Suggester before either stores anything:
		// the race two devices opening the thread at once can run.
		var arrived sync.WaitGroup
		arrived.Add(2)
		svc := w.service(t, suggesterFunc(func(ctx context.Context, req conversations.SuggestRequest) ([]conversations.Suggestion, error) {
			arrived.Done()
			arrived.Wait()
			return w.sugg.Suggest(ctx, req)
		}))
		var wg sync.WaitGroup
		got := make([][]conversations.SuggestionID, 2)
		errs := make([]error, 2)
		for i := range 2 {
			wg.Go(func() {
				ss, err := svc.Suggestions(ctx, w.disp, w.thread)
				got[i], errs[i] = suggestionIDs(ss), err
			})
		}
		wg.Wait()
		require.NoError(t, errs[0])
		require.NoError(t, errs[1])
		assert.Len(t, got[0], 3, "each caller gets a whole set")
		assert.Len(t, got[1], 3)

		settled, err := svc.Suggestions(ctx, w.disp, w.thread)
		require.NoError(t, err)
		assert.Contains(t, got, suggestionIDs(settled), "afterwards every reader gets one of the sets handed out")
		for range 3 {
			again, err := svc.Suggestions(ctx, w.disp, w.thread)
			require.NoError(t, err)
			assert.Equal(t, suggestionIDs(settled), suggestionIDs(again), "and always the same one")
		}
		assert.EqualValues(t, 2, w.sugg.calls.Load())
	})
}

// TestSuggestionRates: what staff do with suggestions is counted per intent
// and source, with how far each edit went, and read back by the store's
// rates query; another business's suggestions never count.
func TestSuggestionRates(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newSuggestWorld(t, db, rulesSuggester(t))
		before, err := db.SuggestionRates(ctx, w.tenant, time.Time{})
		require.NoError(t, err)
		assert.Empty(t, before, "nothing offered yet")

		ss := w.suggestions(t, w.disp)
		require.Len(t, ss, 3)
		for _, sg := range ss {
			assert.Equal(t, conversations.IntentETA, sg.Intent)
			assert.Equal(t, "en", sg.Language, "the customer wrote in English")
		}
		edited := ss[1].Text + " Thanks!"
		_, err = w.svc.UseSuggestion(ctx, w.disp, ss[1].ID, conversations.UseSuggestion{Body: edited, ClientID: "rates-1"})
		require.NoError(t, err)
		require.NoError(t, w.svc.DismissSuggestion(ctx, w.disp, ss[2].ID))

		// The technician asks too, and sends one as offered.
		tech := w.suggestions(t, w.tech1)
		require.NotEmpty(t, tech)
		_, err = w.svc.UseSuggestion(ctx, w.tech1, tech[0].ID, conversations.UseSuggestion{ClientID: "rates-2"})
		require.NoError(t, err)

		rates, err := db.SuggestionRates(ctx, w.tenant, time.Time{})
		require.NoError(t, err)
		require.Len(t, rates, 1)
		r := rates[0]
		assert.Equal(t, conversations.IntentETA, r.Intent)
		assert.Equal(t, rules.Source, r.Source)
		assert.Equal(t, 3+len(tech), r.Offered)
		assert.Equal(t, 1, r.Used)
		assert.Equal(t, 1, r.Edited)
		assert.Equal(t, 1, r.Dismissed)
		assert.InDelta(t, float64(len(" Thanks!")), r.MeanEditDistance, 0.001, "the edit added eight characters")
		assert.InDelta(t, 1/float64(r.Offered), r.UsedRate(), 0.001)

		later, err := db.SuggestionRates(ctx, w.tenant, suggestNow.Add(time.Hour))
		require.NoError(t, err)
		assert.Empty(t, later, "since leaves out older suggestions")
		other, err := db.SuggestionRates(ctx, conversations.NewID[conversations.TenantID](), time.Time{})
		require.NoError(t, err)
		assert.Empty(t, other, "another business sees none of these")
	})
}
