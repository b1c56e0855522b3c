package inapp_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fieldtalk/fieldtalk/channel/twilio"
	"github.com/fieldtalk/fieldtalk/channel/twilio/twiliotest"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/notify"
	"github.com/fieldtalk/fieldtalk/notify/inapp"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
)

// Benchmark parameters: 100 businesses, each with a dispatcher on two
// devices and an admin on one (300 open streams); signed Twilio webhooks
// arrive at a steady rate, each to a random business, and every one reaches
// three streams.
const (
	benchBusinesses = 100
	benchRate       = 50 // inbound messages per second
	benchPublicURL  = "https://api.fieldtalk.example"
)

// BenchmarkInboundToStream measures the latency from a signed Twilio
// inbound webhook leaving the sender to the event arriving on a connected
// stream, through the real Service, store and Hub, on loopback:
//
//	go test ./notify/inapp -run '^$' -bench InboundToStream -benchtime 300x
//
// The "checked" runs give the Hub a Visibility, so every event is checked
// against revocations as it leaves (one check per read of the Log).
func BenchmarkInboundToStream(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchInboundToStream(b, testdb.SQLite(b), false) })
	b.Run("sqlite-checked", func(b *testing.B) { benchInboundToStream(b, testdb.SQLite(b), true) })
	b.Run("postgres", func(b *testing.B) { benchInboundToStream(b, testdb.Postgres(b), false) })
	b.Run("postgres-checked", func(b *testing.B) { benchInboundToStream(b, testdb.Postgres(b), true) })
}

func benchInboundToStream(b *testing.B, db *store.DB, checked bool) {
	ctx := context.Background()
	cfg := inapp.Config{Log: db, Authenticate: authenticate}
	if checked {
		access, err := conversations.NewThreadAccess(db, policy.Default())
		require.NoError(b, err)
		cfg.Visibility = access
	}
	hub, err := inapp.New(cfg)
	require.NoError(b, err)
	svc, err := conversations.NewService(conversations.Config{Store: db, Policy: policy.Default(), Notifier: hub, Jobs: db})
	require.NoError(b, err)
	hooks, err := twilio.NewWebhooks(twilio.Config{AuthToken: twiliotest.AuthToken, PublicURL: benchPublicURL}, svc)
	require.NoError(b, err)
	mux := http.NewServeMux()
	mux.Handle("/stream", hub)
	mux.Handle("/twilio/inbound", hooks.Inbound())
	srv := httptest.NewServer(mux)
	b.Cleanup(func() { _ = hub.Close(); srv.Close() })

	worlds := make([]*world, benchBusinesses)
	for i := range worlds {
		worlds[i] = populate(b, svc, conversations.NewID[conversations.TenantID](), fmt.Sprintf("+1500777%04d", i))
	}

	// The streams, each read by its own goroutine, which times the events.
	sent := newSendTimes()
	lat := &latencies{}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.Cleanup(hc.CloseIdleConnections)
	var readers sync.WaitGroup
	streamCtx, stopStreams := context.WithCancel(ctx)
	b.Cleanup(func() { stopStreams(); readers.Wait() })
	for _, w := range worlds {
		for _, v := range []conversations.Viewer{w.disp, w.disp, w.admin} {
			body, br := openStream(b, streamCtx, hc, srv.URL+"/stream", v)
			readers.Add(1)
			go func() {
				defer readers.Done()
				defer body.Close()
				readTimed(br, sent, lat)
			}()
		}
	}

	client := &twiliotest.WebhookClient{Signer: twiliotest.Signer{AuthToken: twiliotest.AuthToken}, Target: srv.URL, HTTP: hc}
	tick := time.NewTicker(time.Second / benchRate)
	defer tick.Stop()
	var posts sync.WaitGroup
	b.ResetTimer()
	i := 0
	for ; i < b.N; i++ {
		<-tick.C
		w := worlds[i%len(worlds)]
		form := twiliotest.Inbound{From: fmt.Sprintf("+1500555%04d", i%7), To: w.number, Body: "bench-" + strconv.Itoa(i)}.Form()
		sent.set(i, time.Now())
		posts.Add(1)
		go func() {
			defer posts.Done()
			resp, err := client.Post(ctx, benchPublicURL+"/twilio/inbound", form, "")
			if err != nil {
				b.Errorf("post: %v", err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("post: status %d", resp.StatusCode)
			}
		}()
	}
	posts.Wait()
	want := 3 * i
	deadline := time.Now().Add(30 * time.Second)
	for lat.count() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	got := lat.sorted()
	if len(got) != want {
		b.Fatalf("%d of %d events arrived", len(got), want)
	}
	b.ReportMetric(ms(got[len(got)/2]), "p50-ms")
	b.ReportMetric(ms(got[len(got)*99/100]), "p99-ms")
	b.ReportMetric(ms(got[len(got)-1]), "max-ms")
	b.ReportMetric(float64(hub.Connections()), "streams")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// openStream opens a stream and reads it up to its ready event: from then
// on, everything logged for the viewer reaches it.
func openStream(b *testing.B, ctx context.Context, hc *http.Client, url string, v conversations.Viewer) (io.Closer, *bufio.Reader) {
	b.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(b, err)
	req.Header.Set("Authorization", authHeader(v))
	resp, err := hc.Do(req)
	require.NoError(b, err)
	require.Equal(b, http.StatusOK, resp.StatusCode)
	br := bufio.NewReader(resp.Body)
	for {
		line, err := br.ReadString('\n')
		require.NoError(b, err)
		if line == "event: "+inapp.EventReady+"\n" {
			return resp.Body, br
		}
	}
}

// readTimed reads a stream and records, for each message event, how long
// after its webhook was sent it arrived.
func readTimed(br *bufio.Reader, sent *sendTimes, lat *latencies) {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		at := time.Now()
		var p notify.Payload
		if json.Unmarshal([]byte(data), &p) != nil || p.Message == nil {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(p.Message.Body, "bench-"))
		if err != nil {
			continue
		}
		if t, ok := sent.get(n); ok {
			lat.add(at.Sub(t))
		}
	}
}

type sendTimes struct {
	mu sync.Mutex
	at map[int]time.Time
}

func newSendTimes() *sendTimes { return &sendTimes{at: map[int]time.Time{}} }

func (s *sendTimes) set(i int, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.at[i] = t
}

func (s *sendTimes) get(i int) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.at[i]
	return t, ok
}

type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.d = append(l.d, d)
}

func (l *latencies) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.d)
}

func (l *latencies) sorted() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.d)
	slices.Sort(out)
	return out
}

// BenchmarkIdleStreamMemory measures what an idle open stream costs the
// process: heap and goroutine stacks, after a GC, divided by the number of
// streams. The clients are bare TCP connections that read the stream's
// start and then nothing, so nearly all of it is the server's side (net/http's
// connection, its buffers and goroutine, the Hub's stream):
//
//	go test ./notify/inapp -run '^$' -bench IdleStreamMemory -benchtime 300x
func BenchmarkIdleStreamMemory(b *testing.B) {
	db := testdb.SQLite(b)
	hub, err := inapp.New(inapp.Config{Log: db, Authenticate: authenticate})
	require.NoError(b, err)
	srv := httptest.NewServer(hub)
	var conns []net.Conn
	b.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
		_ = hub.Close()
		srv.Close()
	})
	addr := srv.Listener.Addr().String()
	// One stream first, so one-time allocations (the first staff member's
	// statements, the server's pools) are not charged to the rest.
	conns = append(conns, openRaw(b, addr, viewer("warm-up")))

	before := memInUse()
	goroutines := runtime.NumGoroutine()
	b.ResetTimer()
	for i := range b.N {
		conns = append(conns, openRaw(b, addr, viewer(fmt.Sprintf("staff-%d", i))))
	}
	b.StopTimer()
	after := memInUse()
	b.ReportMetric(float64(after-before)/float64(b.N), "bytes/conn")
	b.ReportMetric(float64(runtime.NumGoroutine()-goroutines)/float64(b.N), "goroutines/conn")
}

// openRaw opens a stream on a bare connection and reads up to its ready
// event.
func openRaw(b *testing.B, addr string, v conversations.Viewer) net.Conn {
	b.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(b, err)
	_, err = fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: fieldtalk\r\nAuthorization: %s\r\n\r\n", authHeader(v))
	require.NoError(b, err)
	br := bufio.NewReaderSize(c, 512)
	for {
		line, err := br.ReadString('\n')
		require.NoError(b, err)
		if strings.Contains(line, "event: ready") {
			return c
		}
	}
}

func memInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}
