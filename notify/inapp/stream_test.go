package inapp_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/notify/inapp"
	"github.com/fieldtalk/fieldtalk/store"
)

func message(v conversations.Viewer, thread string, badge int64) conversations.Notification {
	return conversations.Notification{
		Tenant: v.Tenant, Recipient: v.Staff, Type: conversations.EventMessage,
		Thread: conversations.ThreadID(thread), Badge: badge,
	}
}

func viewer(staff string) conversations.Viewer {
	return conversations.Viewer{Tenant: "t1", Staff: conversations.StaffID(staff), Role: conversations.RoleDispatcher}
}

func newHub(t testing.TB, db inapp.Log, opts ...inapp.Option) (*inapp.Hub, *httptest.Server) {
	t.Helper()
	hub, err := inapp.New(inapp.Config{Log: db, Authenticate: authenticate}, opts...)
	require.NoError(t, err)
	return hub, newServer(t, hub)
}

// waitFor polls cond until it holds or the test's patience runs out.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A client that reconnects with Last-Event-ID gets exactly what it missed
// (nothing before, nothing twice), then ready, then live events.
func TestResumeReplaysExactlyWhatWasMissed(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		hub, srv := newHub(t, db)
		dana, tom := viewer("dana"), viewer("tom")

		c1 := dial(t, srv.URL, dana, "")
		c1.mustReady(t)
		for i := 1; i <= 2; i++ {
			require.NoError(t, hub.Notify(ctx, message(dana, fmt.Sprint("before-", i), int64(i))))
		}
		assert.Equal(t, "before-1", c1.mustNote(t).payload(t).Thread)
		assert.Equal(t, "before-2", c1.mustNote(t).payload(t).Thread)
		c1.Close()
		waitFor(t, "the hub to see the client go", func() bool { return hub.Connections() == 0 })

		var missed []string
		for i := 1; i <= 3; i++ {
			n := message(dana, fmt.Sprint("missed-", i), int64(2+i))
			require.NoError(t, hub.Notify(ctx, n))
			require.NoError(t, hub.Notify(ctx, message(tom, "not-for-dana", 1)))
			missed = append(missed, string(n.Thread))
		}

		c2 := dial(t, srv.URL, dana, c1.LastEventID())
		var got []string
		for range missed {
			ev := c2.mustNext(t)
			require.Equal(t, string(conversations.EventMessage), ev.Event, "replayed before ready: %+v", ev)
			got = append(got, ev.payload(t).Thread)
		}
		assert.Equal(t, missed, got, "the replay is exactly what was missed, in order")
		ready := c2.mustNext(t)
		require.Equal(t, inapp.EventReady, ready.Event)
		assert.False(t, ready.HasID, "ready after a replay keeps the client's last id")
		assert.Equal(t, 3, ready.marker(t).Replayed)

		require.NoError(t, hub.Notify(ctx, message(dana, "live", 6)))
		assert.Equal(t, "live", c2.mustNext(t).payload(t).Thread, "then live events, with nothing in between")
		c2.quiet(t, 150*time.Millisecond, "nothing else")
	})
}

// Under a steady stream of notifications, a client that keeps dropping and
// resuming still sees every notification exactly once, in order: the
// replay and the live events it overlaps are stitched by id.
func TestResumeUnderLoadIsGaplessAndDuplicateFree(t *testing.T) {
	db := testdb.SQLite(t)
	ctx := context.Background()
	hub, srv := newHub(t, db)
	dana := viewer("dana")
	const total = 150

	// A second device stays connected throughout, so the recipient's live
	// reads run while the first device replays.
	steady := dial(t, srv.URL, dana, "")
	steady.mustReady(t)
	first := dial(t, srv.URL, dana, "")
	lastID := first.mustReady(t).ID
	first.Close()

	go func() {
		for i := range total {
			if err := hub.Notify(ctx, message(dana, fmt.Sprintf("n%03d", i), int64(i))); err != nil {
				t.Errorf("notify: %v", err)
				return
			}
		}
	}()

	rnd := rand.New(rand.NewPCG(1, 2))
	var got []string
	for len(got) < total {
		c := dial(t, srv.URL, dana, lastID)
		for take := 1 + rnd.IntN(20); take > 0 && len(got) < total; take-- {
			ev := c.mustNext(t)
			require.NotEqual(t, inapp.EventResync, ev.Event)
			if ev.Event == inapp.EventReady {
				continue
			}
			got = append(got, ev.payload(t).Thread)
			// What the app has handled, not what the reader has parsed
			// ahead: this is the id a reconnect must send.
			lastID = ev.ID
		}
		c.Close()
	}
	for i, th := range got {
		require.Equal(t, fmt.Sprintf("n%03d", i), th, "event %d across reconnects", i)
	}
	for i := range total {
		require.Equal(t, fmt.Sprintf("n%03d", i), steady.mustNote(t).payload(t).Thread, "the device that stayed connected")
	}
}

func TestResync(t *testing.T) {
	db := testdb.SQLite(t)
	ctx := context.Background()
	var (
		mu  sync.Mutex
		now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	hub, srv := newHub(t, db, inapp.WithClock(clock), inapp.WithReplayWindow(time.Hour), inapp.WithMaxReplay(3))
	dana := viewer("dana")

	var ids []string
	for i := range 5 {
		n := message(dana, fmt.Sprint("th", i), 1)
		n.At = clock()
		logged, err := db.AppendNotification(ctx, n)
		require.NoError(t, err)
		ids = append(ids, logged.ID)
	}
	resync := func(t *testing.T, lastID, reason string) {
		t.Helper()
		c := dial(t, srv.URL, dana, lastID)
		ev := c.mustNext(t)
		require.Equal(t, inapp.EventResync, ev.Event, "%+v", ev)
		assert.Equal(t, ids[4], ev.ID, "the stream continues from the newest id")
		assert.Equal(t, reason, ev.marker(t).Reason)
		require.NoError(t, hub.Notify(ctx, message(dana, "after", 1)))
		assert.Equal(t, "after", c.mustNote(t).payload(t).Thread, "and then goes live")
		c.Close()
		ids[4] = c.LastEventID()
	}
	t.Run("unknown id", func(t *testing.T) { resync(t, "not-an-id", "unknown_id") })
	t.Run("id never issued", func(t *testing.T) { resync(t, "9999999999999999", "expired") })
	t.Run("more missed than the replay allows", func(t *testing.T) { resync(t, ids[0], "too_many") })
	t.Run("older than the window", func(t *testing.T) {
		mu.Lock()
		now = now.Add(2 * time.Hour)
		mu.Unlock()
		resync(t, ids[2], "expired")
	})
}

// slowListener makes every accepted connection's send buffer as small as
// the kernel allows, so a client that stops reading blocks the server's
// writes after a few KiB instead of a few MiB.
type slowListener struct{ net.Listener }

func (l slowListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(1)
	}
	return c, err
}

// rawStream opens a stream on a connection with a receive buffer of about
// rcvbuf bytes (1: as small as the kernel allows), and reads nothing: the
// caller decides when the client starts reading (readResponse).
func rawStream(t *testing.T, srv *httptest.Server, v conversations.Viewer, rcvbuf int) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.(*net.TCPConn).SetReadBuffer(rcvbuf))
	_, err = fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: fieldtalk\r\nAuthorization: %s\r\n\r\n", authHeader(v))
	require.NoError(t, err)
	return conn
}

// readResponse starts reading a rawStream.
func readResponse(t *testing.T, conn net.Conn) *sseClient {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(time.Minute)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return newSSEClient(resp, "")
}

// twoDevices starts a hub with opts behind slowListener and connects two
// devices of v: a client that reads all the time, and a rawStream with a
// receive buffer of about rcvbuf bytes that reads nothing yet.
func twoDevices(t *testing.T, v conversations.Viewer, rcvbuf int, opts ...inapp.Option) (*inapp.Hub, *httptest.Server, *sseClient, net.Conn) {
	t.Helper()
	hub, err := inapp.New(inapp.Config{Log: testdb.SQLite(t), Authenticate: authenticate}, opts...)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(hub)
	srv.Listener = slowListener{srv.Listener}
	srv.Start()
	t.Cleanup(func() { _ = hub.Close(); srv.Close() })

	reader := dial(t, srv.URL, v, "")
	reader.mustReady(t)
	raw := rawStream(t, srv, v, rcvbuf)
	waitFor(t, "both streams", func() bool { return hub.Connections() == 2 })
	return hub, srv, reader, raw
}

// notifyLong sends total notifications n000, n001, ... to v, each with a
// message of about size bytes to fill socket buffers quickly, from another
// goroutine; the returned channel closes when they are all logged.
func notifyLong(t *testing.T, hub *inapp.Hub, v conversations.Viewer, total, size int) <-chan struct{} {
	t.Helper()
	line := "A long message that fills the socket buffers quickly. "
	body := strings.Repeat(line, max(1, size/len(line)))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range total {
			n := message(v, fmt.Sprintf("n%03d", i), int64(i))
			n.Message = &conversations.Message{ID: "m", Tenant: v.Tenant, Thread: n.Thread, Body: body, Status: conversations.StatusReceived}
			if err := hub.Notify(context.Background(), n); err != nil {
				t.Errorf("notify: %v", err)
				return
			}
		}
	}()
	t.Cleanup(func() { <-done }) // no Errorf after the test ends
	return done
}

// mustNotes reads notifications n<from> to n<to-1>, in order.
func (c *sseClient) mustNotes(t *testing.T, from, to int, who string) {
	t.Helper()
	for i := from; i < to; i++ {
		require.Equal(t, fmt.Sprintf("n%03d", i), c.mustNote(t).payload(t).Thread, "%s gets everything, in order", who)
	}
}

// A client that stops reading is dropped once a write to it has waited the
// write timeout, while another device of the same person keeps receiving
// everything; the dropped client resumes with Last-Event-ID and misses
// nothing.
func TestSlowClientIsDroppedFastOneKeepsUp(t *testing.T) {
	dana := viewer("dana")
	hub, srv, fast, slow := twoDevices(t, dana, 1, inapp.WithBuffer(64), inapp.WithWriteTimeout(time.Second))

	const total = 200
	done := notifyLong(t, hub, dana, total, 1400)
	fast.mustNotes(t, 0, total, "the fast client")
	<-done
	waitFor(t, "the slow client to be dropped", func() bool { return hub.Connections() == 1 })

	// The slow client's response ends (cleanly, or cut off as the server's
	// write timed out): it does not hang. What it did get is a gapless
	// prefix, and a reconnect from its last id gets the rest.
	sc := readResponse(t, slow)
	got := 0
	for {
		ev, err := sc.next(context.Background())
		if err != nil {
			if !errors.Is(err, io.EOF) {
				require.ErrorIs(t, err, io.ErrUnexpectedEOF, "the slow client's stream ends, it does not hang")
			}
			break
		}
		if ev.Event == inapp.EventReady {
			continue
		}
		require.Equal(t, fmt.Sprintf("n%03d", got), ev.payload(t).Thread, "the slow client's events before the drop")
		got++
	}
	require.Less(t, got, total, "the slow client fell behind")
	resumed := dial(t, srv.URL, dana, sc.LastEventID())
	resumed.mustNotes(t, got, total, "the resumed client")
	ready := resumed.mustNext(t)
	require.Equal(t, inapp.EventReady, ready.Event)
	assert.Equal(t, total-got, ready.marker(t).Replayed)
}

// A client that stops reading for a while, shorter than the write timeout,
// is not dropped however far it falls behind the hub's buffer: it catches
// up from the Log, misses nothing, and then gets live events again. (The
// hub once dropped such a client as soon as its buffer wrapped, which also
// dropped healthy phones whenever the server ran their writers late.)
func TestClientThatPausesCatchesUp(t *testing.T) {
	dana := viewer("dana")
	// Not the smallest receive buffer: with a window under loopback's MSS
	// (64 KiB) the reader's window updates wait for TCP's persist timer,
	// and catching up would take a minute.
	hub, _, fast, paused := twoDevices(t, dana, 64<<10, inapp.WithBuffer(8), inapp.WithWriteTimeout(time.Minute))

	const total = 200
	done := notifyLong(t, hub, dana, total, 8<<10)
	// Once the fast device has the last one, the hub has read all of them
	// into its 8-event buffer: 1.6 MB, far more than the paused client's
	// socket buffers hold (about 140 KB).
	fast.mustNotes(t, 0, total, "the fast client")
	<-done
	assert.Equal(t, 2, hub.Connections(), "the paused client is still connected")

	pc := readResponse(t, paused)
	pc.mustReady(t)
	pc.mustNotes(t, 0, total, "the paused client")
	require.NoError(t, hub.Notify(context.Background(), message(dana, "live", 1)))
	assert.Equal(t, "live", pc.mustNote(t).payload(t).Thread, "and then live events")
	assert.Equal(t, "live", fast.mustNote(t).payload(t).Thread)
}

func TestHeartbeats(t *testing.T) {
	hub, srv := newHub(t, testdb.SQLite(t), inapp.WithHeartbeat(20*time.Millisecond))
	_ = hub
	c := dial(t, srv.URL, viewer("dana"), "")
	c.mustReady(t)
	waitFor(t, "heartbeat comments", func() bool { return c.comments.Load() >= 3 })
}

func TestRefusals(t *testing.T) {
	_, srv := newHub(t, testdb.SQLite(t))
	for _, tc := range []struct {
		name   string
		method string
		auth   string
		want   int
	}{
		{"no credentials", http.MethodGet, "", http.StatusUnauthorized},
		{"an invalid viewer", http.MethodGet, "Viewer t1/dana/janitor", http.StatusUnauthorized},
		{"not a GET", http.MethodPost, authHeader(viewer("dana")), http.StatusMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL, nil)
			require.NoError(t, err)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tc.want, resp.StatusCode)
		})
	}
}

// Close ends every stream, and the Hub refuses new ones.
func TestCloseEndsStreams(t *testing.T) {
	hub, srv := newHub(t, testdb.SQLite(t))
	a, b := dial(t, srv.URL, viewer("dana"), ""), dial(t, srv.URL, viewer("tom"), "")
	a.mustReady(t)
	b.mustReady(t)
	require.NoError(t, hub.Close())
	assert.True(t, a.ended(5*time.Second), "the stream ends")
	assert.True(t, b.ended(5*time.Second), "the stream ends")
	_, err := dialErr(context.Background(), http.DefaultClient, srv.URL, viewer("dana"), "")
	assert.Error(t, err, "a closed hub refuses new streams")
}

// A staff member's oldest stream gives way when they open too many.
func TestTooManyStreamsDropsTheOldest(t *testing.T) {
	hub, srv := newHub(t, testdb.SQLite(t), inapp.WithMaxConnsPerStaff(2))
	dana := viewer("dana")
	oldest := dial(t, srv.URL, dana, "")
	oldest.mustReady(t)
	second := dial(t, srv.URL, dana, "")
	second.mustReady(t)
	third := dial(t, srv.URL, dana, "")
	third.mustReady(t)
	assert.True(t, oldest.ended(5*time.Second), "the oldest stream is closed")
	assert.Equal(t, 2, hub.Connections())
	require.NoError(t, hub.Notify(context.Background(), message(dana, "th", 1)))
	assert.Equal(t, "th", second.mustNote(t).payload(t).Thread)
	assert.Equal(t, "th", third.mustNote(t).payload(t).Thread)
}

// The raw stream is what the SSE spec asks for.
func TestWireFormat(t *testing.T) {
	hub, srv := newHub(t, testdb.SQLite(t), inapp.WithRetry(1500*time.Millisecond))
	dana := viewer("dana")
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", authHeader(dana))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	br := bufio.NewReader(resp.Body)
	read := func(lines int) string {
		var b strings.Builder
		for range lines {
			l, err := br.ReadString('\n')
			require.NoError(t, err)
			b.WriteString(l)
		}
		return b.String()
	}
	assert.Equal(t, "retry: 1500\n\n", read(2))
	assert.Equal(t, "id: 0000000000000000\nevent: ready\ndata: {\"last_id\":\"0000000000000000\"}\n\n", read(4),
		"a recipient with no notifications yet starts before the first")
	n := message(dana, "th1", 7)
	n.Urgent = true
	n.At = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	require.NoError(t, hub.Notify(context.Background(), n))
	assert.Equal(t, "id: 0000000000000001\nevent: message\n"+
		`data: {"id":"0000000000000001","tenant":"t1","recipient":"dana","type":"message","thread":"th1","badge":7,"urgent":true,"at":"2026-05-01T12:00:00Z"}`+"\n\n",
		read(4))
}

// A stream whose next notifications were pruned before this instance read
// them (it missed signals for longer than the log keeps them) is told to
// resync, and goes on from the newest.
func TestLiveGapBecomesResync(t *testing.T) {
	db := testdb.SQLite(t)
	ctx := context.Background()
	hub, srv := newHub(t, db)
	dana := viewer("dana")
	c := dial(t, srv.URL, dana, "")
	c.mustReady(t)

	// Logged without a signal, then pruned: this instance never saw them.
	for i := range 2 {
		_, err := db.AppendNotification(ctx, message(dana, fmt.Sprint("lost-", i), 1))
		require.NoError(t, err)
	}
	_, err := db.PruneNotifications(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)

	require.NoError(t, hub.Notify(ctx, message(dana, "after the gap", 3)))
	ev := c.mustNext(t)
	require.Equal(t, inapp.EventResync, ev.Event, "%+v", ev)
	assert.Equal(t, "gap", ev.marker(t).Reason)
	latest, err := db.LatestNotificationID(ctx, "t1", "dana")
	require.NoError(t, err)
	assert.Equal(t, latest, ev.ID, "the stream goes on from the newest")
	require.NoError(t, hub.Notify(ctx, message(dana, "live again", 4)))
	assert.Equal(t, "live again", c.mustNote(t).payload(t).Thread)
}

// The Hub forgets what is older than its replay window.
func TestHubPrunesOutsideTheWindow(t *testing.T) {
	db := testdb.SQLite(t)
	ctx := context.Background()
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := message(viewer("dana"), "old", 1)
	n.At = old
	_, err := db.AppendNotification(ctx, n)
	require.NoError(t, err)
	newHub(t, db, inapp.WithReplayWindow(time.Hour), inapp.WithPruneInterval(10*time.Millisecond),
		inapp.WithClock(func() time.Time { return old.Add(2 * time.Hour) }))
	waitFor(t, "the old notification to be pruned", func() bool {
		_, err := db.NotificationsSince(ctx, "t1", "dana", "", 0)
		return errors.Is(err, conversations.ErrNotFound)
	})
}
