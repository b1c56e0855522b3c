package outbox_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
	"github.com/fieldtalk/fieldtalk/store/outbox"
)

// A new message's fan-out is owed with the message: a mark committed in the
// same statement (store.DB is a conversations.FanOutStore), cleared once the
// Service's fan-out loop, right after the commit, has told every viewer; the
// Outbox's fan-out sweep takes the marks a crash left. (A Store that keeps
// no marks fans out through a DeliverNotify job committed with the message.)
// These tests prove that every viewer whose badge changed is told, that a
// repeat of the fan-out (the sweep after a slow loop, a retried job) tells
// nobody twice, and that a crash anywhere between the commit and the end of
// the fan-out leaves each recipient told exactly once.

// logNotifier writes each notification to the store's notification log, as
// notify/inapp's Hub does before it signals its streams; the log is what
// the streams show, so it is what "told" means here.
type logNotifier struct {
	db *store.DB
	// stopAfter, when positive, makes the notifier stop dead (until the
	// process is killed) once it has logged that many, printing where;
	// negative, before it logs any.
	stopAfter int
	mu        sync.Mutex
	logged    int
}

func (l *logNotifier) Notify(ctx context.Context, n conversations.Notification) error {
	if l.stopAfter < 0 {
		fmt.Printf("REACHED notify %s\n", n.Cause)
		select {}
	}
	if _, err := l.db.AppendNotification(ctx, n); err != nil {
		return err
	}
	l.mu.Lock()
	l.logged++
	stop := l.stopAfter > 0 && l.logged == l.stopAfter
	l.mu.Unlock()
	if stop {
		fmt.Printf("REACHED notify %s\n", n.Cause)
		select {}
	}
	return nil
}

// watched is a business whose customer thread has an assigned technician
// (tom), another technician who may not see it (tara), a dispatcher (dana)
// and an admin (alex).
type watched struct {
	business
	tom, tara, alex conversations.Viewer
}

func newWatched(t *testing.T, db *store.DB) watched {
	t.Helper()
	ctx := context.Background()
	w := watched{business: newBusiness(t, db)}
	svc, err := conversations.NewService(conversations.Config{Store: db, Policy: policy.Default()})
	require.NoError(t, err)
	mk := func(id string, role conversations.Role) conversations.Viewer {
		st := conversations.Staff{Tenant: w.tenant, ID: conversations.StaffID(id), Name: id, Role: role}
		require.NoError(t, svc.PutStaff(ctx, st))
		return st.Viewer()
	}
	w.tom, w.tara, w.alex = mk("tom", conversations.RoleTechnician), mk("tara", conversations.RoleTechnician), mk("alex", conversations.RoleAdmin)
	require.NoError(t, db.PutJob(ctx, conversations.JobContext{Tenant: w.tenant, ID: "job-1", Title: "Leak"}))
	require.NoError(t, svc.LinkJob(ctx, w.disp, w.thread, "job-1"))
	require.NoError(t, svc.Assign(ctx, w.tenant, "job-1", w.tom.Staff))
	return w
}

// receive files an inbound message in w's thread through svc.
func (w watched) receive(t *testing.T, svc *conversations.Service, body string) conversations.Message {
	t.Helper()
	m, created, err := svc.Receive(context.Background(), conversations.InboundMessage{
		Tenant: w.tenant, Channel: conversations.ChannelSMS, BusinessNumber: w.number,
		From: "+15005550999", Body: body, ProviderID: "SM" + strings.ReplaceAll(body, " ", "_") + string(w.tenant),
	})
	require.NoError(t, err)
	require.True(t, created)
	return m
}

// told returns, per staff member of w, the notifications logged for m.
func (w watched) told(t *testing.T, db *store.DB, m conversations.MessageID) map[conversations.StaffID][]conversations.Notification {
	t.Helper()
	out := map[conversations.StaffID][]conversations.Notification{}
	for _, v := range []conversations.Viewer{w.disp, w.alex, w.tom, w.tara} {
		ns, err := db.NotificationsSince(context.Background(), w.tenant, v.Staff, "", store.MaxNotificationsPage)
		if err != nil {
			require.ErrorIs(t, err, conversations.ErrNotFound) // never told anything
		}
		for _, n := range ns {
			if n.Cause == m {
				out[v.Staff] = append(out[v.Staff], n)
			}
		}
	}
	return out
}

// checkToldOnce asserts that m reached each viewer of w's thread exactly
// once (the message to tom, who watches it; a badge event to the
// dispatcher and the admin, who see every customer thread) and tara not at
// all, each with the badge the Service reports now.
func checkToldOnce(t *testing.T, db *store.DB, svc *conversations.Service, w watched, m conversations.MessageID, why string) {
	t.Helper()
	got := w.told(t, db, m)
	assert.Empty(t, got[w.tara.Staff], "%s: tara may not see the thread", why)
	for _, tc := range []struct {
		v   conversations.Viewer
		typ conversations.EventType
	}{{w.tom, conversations.EventMessage}, {w.disp, conversations.EventBadge}, {w.alex, conversations.EventBadge}} {
		if assert.Len(t, got[tc.v.Staff], 1, "%s: %s is told exactly once", why, tc.v.Staff) {
			n := got[tc.v.Staff][0]
			assert.Equal(t, tc.typ, n.Type, "%s: %s's event", why, tc.v.Staff)
			badge, err := svc.Badge(context.Background(), tc.v)
			require.NoError(t, err)
			assert.Equal(t, badge, n.Badge, "%s: %s's badge is the inbox's", why, tc.v.Staff)
		}
	}
}

// waitTold waits until tom has been told of m.
func waitTold(t *testing.T, db *store.DB, w watched, m conversations.MessageID, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for len(w.told(t, db, m)[w.tom.Staff]) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("nobody was told of %s within %s", m, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// notifyingQueuer is a Service with a Notifier whose Outbox only enqueues.
func notifyingQueuer(t *testing.T, db *store.DB) *conversations.Service {
	t.Helper()
	ob, err := outbox.New(context.Background(), db, fast()...)
	require.NoError(t, err)
	require.NoError(t, ob.Migrate(context.Background()))
	svc, err := conversations.NewService(conversations.Config{Store: ob.Store(), Policy: policy.Default(), Notifier: &logNotifier{db: db}})
	require.NoError(t, err)
	return svc
}

// TestFanOutTellsEachViewerOnce: the fan-out loop tells every viewer after
// Receive's commit and clears the owed mark; a fan-out of the same message
// again (FanOutOwed of a mark left behind, a DeliverNotify job) tells
// nobody twice.
func TestFanOutTellsEachViewerOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWatched(t, db)
		svc := notifyingQueuer(t, db)
		m := w.receive(t, svc, "the leak is back")
		waitAllTold(t, db, w, m.ID, 20*time.Second)
		checkToldOnce(t, db, svc, w, m.ID, "the loop")
		require.Eventually(t, func() bool {
			owed, err := db.OwedFanOuts(ctx, time.Now().Add(time.Hour), 10)
			return err == nil && len(owed) == 0
		}, 10*time.Second, 10*time.Millisecond, "the loop clears the owed mark once everyone is told")

		// A mark left behind (a loop that died after telling everyone):
		// the sweep's fan-out tells nobody again, and clears it.
		require.NoError(t, db.OweFanOut(ctx, w.tenant, m.ID, time.Now().Add(-time.Minute)))
		n, err := svc.FanOutOwed(ctx, time.Second)
		require.NoError(t, err)
		assert.Equal(t, 1, n, "the sweep takes the mark")
		checkToldOnce(t, db, svc, w, m.ID, "the sweep again")
		owed, err := db.OwedFanOuts(ctx, time.Now().Add(time.Hour), 10)
		require.NoError(t, err)
		assert.Empty(t, owed, "the sweep clears what it told")

		// A DeliverNotify job for it (a Store without marks queues one).
		fan := conversations.DeliverAttempt{Kind: conversations.DeliverNotify, Tenant: w.tenant, Message: m.ID, Attempt: 1}
		require.NoError(t, svc.Deliver(ctx, fan))
		checkToldOnce(t, db, svc, w, m.ID, "a job again")

		// The queue's own worker and sweep run too: still once.
		running := runningNotifier(t, db)
		m2 := w.receive(t, running, "and now the tap drips")
		waitAllTold(t, db, w, m2.ID, 20*time.Second)
		require.NoError(t, running.Deliver(ctx, conversations.DeliverAttempt{Kind: conversations.DeliverNotify, Tenant: w.tenant, Message: m2.ID, Attempt: 2}))
		checkToldOnce(t, db, running, w, m2.ID, "the loop, then a repeat")
	})
}

// runningNotifier is a Service with a Notifier and a started Outbox.
func runningNotifier(t *testing.T, db *store.DB) *conversations.Service {
	t.Helper()
	ctx := context.Background()
	ob, err := outbox.New(ctx, db, fast()...)
	require.NoError(t, err)
	require.NoError(t, ob.Migrate(ctx))
	svc, err := conversations.NewService(conversations.Config{Store: ob.Store(), Policy: policy.Default(), Notifier: &logNotifier{db: db}})
	require.NoError(t, err)
	require.NoError(t, ob.Start(ctx, svc))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, ob.Stop(ctx))
	})
	return svc
}

// Child process modes for the crash test (envNotify).
const (
	envNotify   = "FIELDTALK_OUTBOX_NOTIFY" // "receive:<tenant>:<number>" or "fanout[:stop-after]"
	envNotifyDB = "FIELDTALK_OUTBOX_NOTIFY_DSN"
)

// notifyChild is a child process of TestNotifyCrash: it either files one
// inbound message (its owed mark commits with it) and then stops dead
// before its fan-out tells anyone, or runs the Outbox, whose sweep fans
// out what is owed, optionally stopping dead mid-fan-out.
func notifyChild(mode, dsn string) int {
	ctx := context.Background()
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "notify child:", err); return 1 }
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	ob, err := outbox.New(ctx, db, fast()...)
	if err != nil {
		return fail(err)
	}
	notes := &logNotifier{db: db}
	svc, err := conversations.NewService(conversations.Config{Store: ob.Store(), Policy: policy.Default(), Notifier: notes})
	if err != nil {
		return fail(err)
	}
	parts := strings.Split(mode, ":")
	switch parts[0] {
	case "receive":
		notes.stopAfter = -1 // the fan-out loop stops dead before it tells anyone
		fmt.Println("READY")
		m, _, err := svc.Receive(ctx, conversations.InboundMessage{
			Tenant: conversations.TenantID(parts[1]), Channel: conversations.ChannelSMS, BusinessNumber: parts[2],
			From: "+15005550999", Body: "filed, then the host died", ProviderID: "SMcrash" + parts[1],
		})
		if err != nil {
			return fail(err)
		}
		fmt.Printf("COMMITTED %s\n", m.ID)
		select {} // killed before the fan-out told anyone
	case "fanout":
		if len(parts) > 1 {
			_, _ = fmt.Sscan(parts[1], &notes.stopAfter)
		}
		if err := ob.Start(ctx, svc); err != nil {
			return fail(err)
		}
		fmt.Println("READY")
		_, _ = os.Stdin.Read(make([]byte, 1)) // the parent closes stdin to stop us
		stop, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := ob.Stop(stop); err != nil {
			return fail(err)
		}
		return 0
	}
	return fail(fmt.Errorf("unknown mode %q", mode))
}

// TestNotifyCrash: a host killed (SIGKILL) right after the commit, before
// anyone was told, and a worker killed in the middle of the fan-out; after a
// restart every viewer has been told exactly once.
func TestNotifyCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a dead worker's leadership")
	}
	eachKind(t, func(t *testing.T, kind string) {
		dsn, db := migrated(t, kind)
		w := newWatched(t, db)
		notifyingQueuer(t, db) // River's tables

		host := startNotifyChild(t, dsn, fmt.Sprintf("receive:%s:%s", w.tenant, w.number))
		id := conversations.MessageID(strings.TrimPrefix(host.await(t, "COMMITTED", 30*time.Second), "COMMITTED "))
		host.kill(t)
		assert.Empty(t, w.told(t, db, id), "killed after the commit, before the fan-out")

		// A worker that dies after telling one of the three.
		worker := startNotifyChild(t, dsn, "fanout:1")
		worker.await(t, "REACHED", 30*time.Second)
		worker.kill(t)

		worker = startNotifyChild(t, dsn, "fanout")
		// The mark outlived both: the sweep, which runs on the leader (a
		// new one takes over once the dead one's term ends), takes it.
		waitAllTold(t, db, w, id, riverLeaderTTL+15*time.Second)
		worker.stop(t)
		svc, err := conversations.NewService(conversations.Config{Store: db, Policy: policy.Default()})
		require.NoError(t, err)
		checkToldOnce(t, db, svc, w, id, "after the crashes")
	})
}

// waitAllTold waits until the three viewers of w's thread have been told of m.
func waitAllTold(t *testing.T, db *store.DB, w watched, m conversations.MessageID, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := w.told(t, db, m)
		if len(got[w.tom.Staff]) > 0 && len(got[w.disp.Staff]) > 0 && len(got[w.alex.Staff]) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not everyone was told of %s within %s: %v", m, within, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func startNotifyChild(t *testing.T, dsn, mode string) *child {
	t.Helper()
	return startChild(t, envNotify+"="+mode, envNotifyDB+"="+dsn)
}

// panicNotifier panics on every call, after saying it was called.
type panicNotifier struct{ called chan struct{} }

func (p panicNotifier) Notify(context.Context, conversations.Notification) error {
	select {
	case p.called <- struct{}{}:
	default:
	}
	panic("the notifier broke")
}

// TestFanOutLoopSurvivesAPanickingNotifier: a Notifier that panics fails
// its turn of the fan-out loop, not the process, and the message stays
// owed for the sweep.
func TestFanOutLoopSurvivesAPanickingNotifier(t *testing.T) {
	db := testdb.SQLite(t)
	ctx := context.Background()
	w := newWatched(t, db)
	ob, err := outbox.New(ctx, db, fast()...)
	require.NoError(t, err)
	require.NoError(t, ob.Migrate(ctx))
	p := panicNotifier{called: make(chan struct{}, 1)}
	svc, err := conversations.NewService(conversations.Config{Store: ob.Store(), Policy: policy.Default(), Notifier: p})
	require.NoError(t, err)
	m := w.receive(t, svc, "the notifier will panic")
	select {
	case <-p.called:
	case <-time.After(20 * time.Second):
		t.Fatal("the fan-out loop never called the Notifier")
	}
	// The turn ends after the panic; the mark must still be there then.
	// Checked in this goroutine (not require.Never, whose late checks can
	// run on the closed store after the test returns).
	require.NoError(t, svc.WaitFanOuts(ctx))
	for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		owed, err := db.OwedFanOuts(ctx, time.Now().Add(time.Hour), 10)
		require.NoError(t, err)
		require.Len(t, owed, 1, "the message stays owed after a failed turn")
		require.Equal(t, m.ID, owed[0].Message)
	}
}

// TestFanOutOfABatchTellsEachDispatcherOnce: when one turn of the fan-out
// tells of several messages, the thread's watcher gets each message, while
// a dispatcher or admin, who is told only that their badge moved, gets one
// badge event for the batch (the last message its cause), with the badge
// the Service reports.
func TestFanOutOfABatchTellsEachDispatcherOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWatched(t, db)
		plain, err := conversations.NewService(conversations.Config{Store: db, Policy: policy.Default()})
		require.NoError(t, err)
		var ids []conversations.MessageID
		for _, body := range []string{"first of three", "second of three", "third of three"} {
			m := w.receive(t, plain, body)
			require.NoError(t, db.OweFanOut(ctx, w.tenant, m.ID, time.Now().Add(-time.Minute)))
			ids = append(ids, m.ID)
		}
		svc := notifyingQueuer(t, db)
		n, err := svc.FanOutOwed(ctx, time.Second)
		require.NoError(t, err)
		require.Equal(t, 3, n, "one call takes the three marks, one business's batch")

		for i, id := range ids {
			got := w.told(t, db, id)
			assert.Len(t, got[w.tom.Staff], 1, "tom, who watches the thread, is told of message %d", i)
			assert.Empty(t, got[w.tara.Staff], "tara may not see the thread")
			for _, v := range []conversations.Viewer{w.disp, w.alex} {
				if i < len(ids)-1 {
					assert.Empty(t, got[v.Staff], "%s gets no badge event of their own for message %d", v.Staff, i)
					continue
				}
				if assert.Len(t, got[v.Staff], 1, "%s gets one badge event for the batch", v.Staff) {
					assert.Equal(t, conversations.EventBadge, got[v.Staff][0].Type)
					badge, err := svc.Badge(ctx, v)
					require.NoError(t, err)
					assert.Equal(t, badge, got[v.Staff][0].Badge, "%s's badge is the inbox's", v.Staff)
				}
			}
		}
	})
}
