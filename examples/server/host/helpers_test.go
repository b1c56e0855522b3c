package host_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/examples/server/host"
	"github.com/fieldtalk/fieldtalk/internal/testdb"
	"github.com/fieldtalk/fieldtalk/store"
)

// lockedBuffer collects what the server prints (the console channel writes
// from delivery workers).
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// running is one started example server.
type running struct {
	app  *fxtest.App
	url  string
	demo *host.Demo
	db   *store.DB
	svc  *conversations.Service
	out  *lockedBuffer
	http *http.Client // every exchange checked against the contract
	srv  *host.Server
	ct   *contract
}

// database is where a test server keeps its data.
type database struct {
	dsn   string
	citus bool // dsn is a Citus coordinator: the server distributes the tables
}

// databases runs fn on a fresh SQLite file (migrated already:
// testdb.SQLiteDSN), on a fresh PostgreSQL schema (FIELDTALK_POSTGRES_URL)
// and on a fresh schema of a Citus cluster (FIELDTALK_CITUS_URL).
func databases(t *testing.T, fn func(t *testing.T, db database)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, database{dsn: testdb.SQLiteDSN(t)}) })
	t.Run("postgres", func(t *testing.T) { fn(t, database{dsn: testdb.PostgresDSN(t)}) })
	t.Run("citus", func(t *testing.T) { fn(t, database{dsn: testdb.CitusDSN(t), citus: true}) })
}

// start wires and starts the server for cfg with fxtest, as main does,
// and stops it when the test ends.
func start(t testing.TB, cfg host.Config, extra ...fx.Option) *running {
	t.Helper()
	r := &running{out: &lockedBuffer{}, ct: newContract(t)}
	r.http = &http.Client{Timeout: 10 * time.Second, Transport: r.ct}
	cfg.Addr = "127.0.0.1:0"
	cfg.Stdout = r.out
	cfg.PollInterval = 20 * time.Millisecond
	cfg.ShutdownTimeout = 10 * time.Second
	if err := cfg.Complete(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	// A start migrates the database (River's tables too): on a loaded
	// machine under -race that can outlast fx's default 15 seconds.
	opts := append([]fx.Option{fx.Populate(&r.srv, &r.demo, &r.db, &r.svc), fx.StartTimeout(time.Minute)}, extra...)
	r.app = fxtest.New(t, host.Logging(log), host.Core(cfg), host.Adapters(cfg), host.WithDemo(), fx.Options(opts...))
	r.app.RequireStart()
	t.Cleanup(func() { r.app.RequireStop() })
	r.url = r.srv.URL()
	return r
}

// call sends a JSON request as the staff member whose token is given ("":
// none) and checks the status; it returns the raw answer.
func (r *running) call(t *testing.T, method, path, token string, body any, want int) []byte {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, r.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s %s answered %d, want %d: %s", method, path, resp.StatusCode, want, got)
	}
	if resp.StatusCode >= 400 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%s %s: an error must come back as JSON, got %q: %s", method, path, resp.Header.Get("Content-Type"), got)
	}
	return got
}

// decodeAs calls and decodes the answer into a T.
func decodeAs[T any](t *testing.T, r *running, method, path, token string, body any, want int) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.call(t, method, path, token, body, want), &v); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return v
}

// apiError is the JSON of every error answer.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

func (r *running) expectError(t *testing.T, method, path, token string, body any, status int, code string) apiError {
	t.Helper()
	e := decodeAs[apiError](t, r, method, path, token, body, status)
	if e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("%s %s: error %+v, want code %q with a message", method, path, e.Error, code)
	}
	return e
}

type thread struct {
	ID           string   `json:"id"`
	Kind         string   `json:"kind"`
	Preview      string   `json:"preview"`
	Unread       int64    `json:"unread"`
	LastSeq      int64    `json:"last_seq"`
	Jobs         []string `json:"jobs"`
	Participants []string `json:"participants"`
	Contact      struct {
		Phone string `json:"phone"`
	} `json:"contact"`
}

type message struct {
	ID          string    `json:"id"`
	Thread      string    `json:"thread"`
	Seq         int64     `json:"seq"`
	Kind        string    `json:"kind"`
	Channel     string    `json:"channel"`
	Body        string    `json:"body"`
	Status      string    `json:"status"`
	ClientID    string    `json:"client_id"`
	Urgent      bool      `json:"urgent"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	ProviderID  string    `json:"provider_id"`
	SentAt      time.Time `json:"sent_at"`
	DeliveredAt time.Time `json:"delivered_at"`
}

type inbox struct {
	Threads []thread `json:"threads"`
}

type history struct {
	Messages []message `json:"messages"`
}

type suggestion struct {
	ID     string `json:"id"`
	Text   string `json:"text"`
	Intent string `json:"intent"`
	Source string `json:"source"`
}

type draft struct {
	ID       string `json:"id"`
	Body     string `json:"body"`
	ClientID string `json:"client_id"`
	Version  int64  `json:"version"`
}

func (r *running) inbox(t *testing.T, token string) []thread {
	t.Helper()
	return decodeAs[inbox](t, r, "GET", "/v1/inbox", token, nil, http.StatusOK).Threads
}

func (r *running) badge(t *testing.T, token string) int64 {
	t.Helper()
	return decodeAs[map[string]int64](t, r, "GET", "/v1/badge", token, nil, http.StatusOK)["badge"]
}

func (r *running) history(t *testing.T, token, thread string) []message {
	t.Helper()
	return decodeAs[history](t, r, "GET", "/v1/threads/"+thread+"/messages", token, nil, http.StatusOK).Messages
}

// eventually polls cond until it holds or 20 seconds pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sseEvent is one Server-Sent Event.
type sseEvent struct {
	ID, Event, Data string
}

// stream opens the event stream as token's holder and delivers its events
// on the returned channel until the test ends.
func (r *running) stream(t *testing.T, token string) <-chan sseEvent {
	t.Helper()
	return openStream(t, r, token, "").events
}

// next returns the next event of one of the given types, skipping others.
func next(t *testing.T, events <-chan sseEvent, types ...string) sseEvent {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("the stream ended while waiting for %v", types)
			}
			for _, typ := range types {
				if ev.Event == typ {
					return ev
				}
			}
		case <-timeout:
			t.Fatalf("no %v event within 20s", types)
		}
	}
}
