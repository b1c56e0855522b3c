package outbox_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/channel/twilio"
	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
	"github.com/fieldtalk/fieldtalk/store/outbox"
)

// These tests run delivery workers in child processes (this test binary,
// re-executed) so that one can be killed with SIGKILL mid-delivery, as a
// crashing host would be. The fake Twilio stays in the parent and sees every
// process's calls.

const (
	envChild = "FIELDTALK_OUTBOX_CHILD" // the store DSN: run as a worker process
	envTwURL = "FIELDTALK_OUTBOX_TWILIO"
	envCrash = "FIELDTALK_OUTBOX_CRASH" // "before" or "after" the provider call
)

func TestMain(m *testing.M) {
	if dsn := os.Getenv(envChild); dsn != "" {
		os.Exit(worker(dsn))
	}
	if mode := os.Getenv(envNotify); mode != "" {
		os.Exit(notifyChild(mode, os.Getenv(envNotifyDB)))
	}
	os.Exit(m.Run())
}

// crashing wraps the Twilio channel and stops dead (until killed) before
// or after the provider call, printing where.
type crashing struct {
	*twilio.Channel
	mode string
}

func (c crashing) Send(ctx context.Context, out conversations.Outbound) (conversations.Receipt, error) {
	if c.mode == "before" {
		fmt.Printf("REACHED before %s\n", out.Message)
		select {}
	}
	r, err := c.Channel.Send(ctx, out)
	if c.mode == "after" && err == nil {
		// The provider has accepted the message; our commit never happens.
		fmt.Printf("REACHED after %s\n", out.Message)
		select {}
	}
	return r, err
}

// worker is a child process: a delivery worker until stdin closes.
func worker(dsn string) int {
	ctx := context.Background()
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "worker:", err); return 1 }
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	tw, err := twilio.New(twilio.Config{AccountSID: twiliotest.AccountSID, AuthToken: twiliotest.AuthToken, Timeout: 2 * time.Second},
		twilio.WithBaseURL(os.Getenv(envTwURL)))
	if err != nil {
		return fail(err)
	}
	ob, err := outbox.New(ctx, db, append(fast(), outbox.ForChannelTimeout(tw.Timeout()))...)
	if err != nil {
		return fail(err)
	}
	svc, err := conversations.NewService(conversations.Config{
		Store: ob.Store(), Policy: policy.Default(), Channels: []conversations.Channel{crashing{Channel: tw, mode: os.Getenv(envCrash)}},
	})
	if err != nil {
		return fail(err)
	}
	if err := ob.Start(ctx, svc); err != nil {
		return fail(err)
	}
	fmt.Println("READY")
	signal.Ignore(syscall.SIGPIPE)
	_, _ = io.Copy(io.Discard, os.Stdin) // the parent closes stdin to stop us
	stop, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := ob.Stop(stop); err != nil {
		return fail(err)
	}
	return 0
}

type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

func startWorker(t *testing.T, dsn, twilioURL, crash string) *child {
	t.Helper()
	return startChild(t, envChild+"="+dsn, envTwURL+"="+twilioURL, envCrash+"="+crash)
}

// startChild starts this test binary again as a child process with env
// added, and waits for it to print READY.
func startChild(t *testing.T, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	c := &child{cmd: cmd, stdin: stdin, lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	c.await(t, "READY", 30*time.Second)
	return c
}

// await waits for a line starting with prefix. On a timeout it fails with
// what explain says (the queue's rows, say), so a miss can be told from a
// slow machine.
func (c *child) await(t *testing.T, prefix string, within time.Duration, explain ...func() string) string {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("worker exited before printing %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			var why []string
			for _, e := range explain {
				why = append(why, e())
			}
			t.Fatalf("worker did not print %q within %s; %s", prefix, within, strings.Join(why, "; "))
		}
	}
}

func (c *child) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGKILL))
	_ = c.cmd.Wait()
}

func (c *child) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, c.stdin.Close())
	assert.NoError(t, c.cmd.Wait(), "a worker stops cleanly when asked")
}

// migrated opens a fresh database that child processes can reach by DSN.
func migrated(t *testing.T, kind string) (string, *store.DB) {
	t.Helper()
	var dsn string
	if kind == "sqlite" {
		dsn = "sqlite:" + filepath.Join(t.TempDir(), "outbox.db")
	} else {
		dsn = testdb.PostgresDSN(t)
	}
	db, err := store.Open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.Migrate(context.Background()))
	return dsn, db
}

// queuer is a Service whose Outbox only enqueues: the workers are elsewhere.
func queuer(t *testing.T, db *store.DB) *conversations.Service {
	t.Helper()
	ob, err := outbox.New(context.Background(), db, fast()...)
	require.NoError(t, err)
	require.NoError(t, ob.Migrate(context.Background()))
	svc, err := conversations.NewService(conversations.Config{Store: ob.Store(), Policy: policy.Default()})
	require.NoError(t, err)
	return svc
}

func eachKind(t *testing.T, fn func(t *testing.T, kind string)) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			fn(t, kind)
		})
	}
}

// TestCrashMidDelivery kills a worker before the provider call, then
// another after the provider accepted but before our commit; after a
// restart every message ends accepted and the provider saw each once.
func TestCrashMidDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a dead worker's leadership")
	}
	eachKind(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		dsn, db := migrated(t, kind)
		fake := twiliotest.NewServer(t)
		b := newBusiness(t, db)
		svc := queuer(t, db)

		send := func(body string) conversations.MessageID {
			m, err := svc.SendSMS(ctx, b.disp, conversations.SendSMS{Thread: b.thread, Body: body})
			require.NoError(t, err)
			return m.ID
		}
		first := send("crash before the call")
		w := startWorker(t, dsn, fake.URL(), "before")
		assert.Equal(t, "REACHED before "+string(first), w.await(t, "REACHED", 60*time.Second, func() string { return queueRows(db) }))
		w.kill(t)
		assert.Empty(t, fake.Creates(), "killed before the call: the provider has nothing")

		second := send("crash after the call")
		w = startWorker(t, dsn, fake.URL(), "after")
		reached := w.await(t, "REACHED", 60*time.Second, func() string { return queueRows(db) })
		w.kill(t)
		require.Len(t, fake.Creates(), 1, "killed after the provider accepted one message (%s)", reached)

		third := send("no crash")
		w = startWorker(t, dsn, fake.URL(), "")
		msgs := waitDelivered(t, db, b.tenant, []conversations.MessageID{first, second, third}, 90*time.Second)
		w.stop(t)
		for _, m := range msgs {
			assert.NotEmpty(t, m.ProviderID, "%q ended %s (%s)", m.Body, m.Status, m.ErrorReason)
		}
		per := createsPerBody(fake)
		assert.Len(t, per, 3)
		for body, n := range per {
			assert.Equal(t, 1, n, "exactly-once rule broken for %q across crashes", body)
		}
	})
}

// TestTwoWorkerProcessesDeliverOnce runs two worker processes on one
// PostgreSQL database: no message goes out twice.
func TestTwoWorkerProcessesDeliverOnce(t *testing.T) {
	ctx := context.Background()
	dsn, db := migrated(t, "postgres") // skips without PostgreSQL, except under CI
	fake := twiliotest.NewServer(t)
	b := newBusiness(t, db)
	svc := queuer(t, db)
	w1 := startWorker(t, dsn, fake.URL(), "")
	w2 := startWorker(t, dsn, fake.URL(), "")
	var ids []conversations.MessageID
	for i := range 100 {
		m, err := svc.SendSMS(ctx, b.disp, conversations.SendSMS{Thread: b.thread, Body: fmt.Sprintf("two workers %d", i)})
		require.NoError(t, err)
		ids = append(ids, m.ID)
	}
	waitDelivered(t, db, b.tenant, ids, 60*time.Second)
	w1.stop(t)
	w2.stop(t)
	per := createsPerBody(fake)
	assert.Len(t, per, 100)
	for body, n := range per {
		assert.Equal(t, 1, n, "exactly-once rule broken for %q with two workers", body)
	}
}

// Bounds on River's rescue, which the outbox cannot set: its rescuer looks
// every 30 s on the leading instance (at once when it takes the lead), and
// a new leader takes over when the dead one's lease ends, at most 15 s on.
const (
	riverRescuerInterval = 30 * time.Second
	riverLeaderTTL       = 15 * time.Second
)

// TestCrashedDeliveryIsRetriedWithinTheRescueBound kills a worker process
// (SIGKILL) while it is inside the provider call and starts another: the
// message is retried within the rescue bound that ForChannelTimeout derives
// from the channel's deadline, and sent once.
func TestCrashedDeliveryIsRetriedWithinTheRescueBound(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a dead worker's leadership")
	}
	// What the worker processes run with: Twilio's 2 s deadline.
	jobTimeout, rescueAfter := 2*2*time.Second, 2*2*time.Second+2*time.Second/15
	// The rescue runs on River's schedule: a new leader rescues at once
	// when it takes the lead (up to riverLeaderTTL after a leader died),
	// then every riverRescuerInterval. A leader that took over before the
	// job was rescuable (killed before it led, or the lease already gone)
	// rescues it at its next look. So the bound, as the README states it:
	// the rescue delay, plus one rescuer interval, plus a leader's
	// hand-over; 5 s for process start and the first retry's backoff.
	bound := rescueAfter + riverRescuerInterval + riverLeaderTTL + 5*time.Second
	eachKind(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		dsn, db := migrated(t, kind)
		fake := twiliotest.NewServer(t)
		b := newBusiness(t, db)
		svc := queuer(t, db)
		m, err := svc.SendSMS(ctx, b.disp, conversations.SendSMS{Thread: b.thread, Body: "crashed mid-send"})
		require.NoError(t, err)
		w := startWorker(t, dsn, fake.URL(), "before")
		// 60 s, as in TestCrashMidDelivery: a child -race binary sharing two
		// cores with the other packages' tests once missed 30 s in CI.
		w.await(t, "REACHED", 60*time.Second, func() string { return queueRows(db) })
		w.kill(t)
		killed := time.Now()

		w = startWorker(t, dsn, fake.URL(), "")
		waitDelivered(t, db, b.tenant, []conversations.MessageID{m.ID}, bound+10*time.Second)
		took := time.Since(killed)
		w.stop(t)
		t.Logf("%s: retried %s after the SIGKILL (job timeout %s, rescue after %s)", kind, took.Round(100*time.Millisecond), jobTimeout, rescueAfter)
		assert.LessOrEqual(t, took, bound, "a crashed delivery is retried within rescue-after + River's rescuer interval and leader hand-over")
		assert.Len(t, fake.Creates(), 1, "exactly-once rule broken across the crash")
	})
}

// queueRows describes every River job in db's database, for a failure
// message.
func queueRows(db *store.DB) string {
	rows, err := db.SQL().QueryContext(context.Background(),
		`SELECT id, kind, queue, state, attempt, priority, scheduled_at, errors FROM river_job ORDER BY id`)
	if err != nil {
		return "river_job unreadable: " + err.Error()
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, attempt, priority int64
		var kind, queue, state string
		var scheduled any
		var errs sql.NullString
		if err := rows.Scan(&id, &kind, &queue, &state, &attempt, &priority, &scheduled, &errs); err != nil {
			return "river_job unreadable: " + err.Error()
		}
		out = append(out, fmt.Sprintf("job %d %s queue=%s state=%s attempt=%d priority=%d scheduled=%v errors=%s",
			id, kind, queue, state, attempt, priority, scheduled, errs.String))
	}
	return fmt.Sprintf("river_job at %s: [%s]", time.Now().UTC().Format(time.RFC3339Nano), strings.Join(out, ", "))
}
