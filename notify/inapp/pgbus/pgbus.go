package pgbus

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/notify/inapp"
)

// DefaultChannel is the NOTIFY channel a Bus uses unless told otherwise.
const DefaultChannel = "fieldtalk_notify"

// maxPayloadBytes is PostgreSQL's limit on a NOTIFY payload (8000 bytes,
// less one for the terminator).
const maxPayloadBytes = 7999

// Execer runs a statement; *sql.DB (store.DB.SQL()) is one. Publish sends
// its NOTIFY through it, on whatever pooled connection is free.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Option configures New.
type Option func(*options)

type options struct {
	channel    string
	log        *slog.Logger
	minBackoff time.Duration
	maxBackoff time.Duration
	ping       time.Duration
}

// WithChannel sets the NOTIFY channel (default DefaultChannel). Every
// instance of one deployment must use the same; deployments sharing a
// database use different ones.
func WithChannel(name string) Option {
	return func(o *options) {
		if name != "" {
			o.channel = name
		}
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithBackoff sets the delays between attempts to reconnect the listener:
// from min, doubling up to max (defaults 100ms and 10s).
func WithBackoff(minDelay, maxDelay time.Duration) Option {
	return func(o *options) {
		if minDelay > 0 && maxDelay >= minDelay {
			o.minBackoff, o.maxBackoff = minDelay, maxDelay
		}
	}
}

// WithPingInterval sets how long the listener waits for a notification
// before it checks that its connection is alive (default 30s): a
// connection silently cut by the network is otherwise noticed only by TCP,
// minutes later.
func WithPingInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.ping = d
		}
	}
}

// Bus is an inapp.Bus on PostgreSQL LISTEN/NOTIFY. Safe for concurrent use.
type Bus struct {
	cfg  *pgx.ConnConfig
	pub  Execer
	o    options
	stop context.CancelFunc
	done chan struct{}

	mu   sync.RWMutex
	next int
	subs map[int]func(inapp.Signal)
}

var _ inapp.Bus = (*Bus)(nil)

// New starts a Bus: a listener on a dedicated connection opened from conn
// (store.DB.ConnConfig()), reconnecting with backoff when it drops, and a
// publisher that sends through pub (store.DB.SQL()). Close it when done.
func New(conn *pgx.ConnConfig, pub Execer, opts ...Option) (*Bus, error) {
	if conn == nil {
		return nil, fmt.Errorf("pgbus: new: %w", conversations.Invalid("conn", "nil (store.DB.ConnConfig() is nil on SQLite: use inapp.LocalBus there)"))
	}
	if pub == nil {
		return nil, fmt.Errorf("pgbus: new: %w", conversations.Invalid("pub", "nil"))
	}
	o := options{
		channel: DefaultChannel, log: slog.New(slog.DiscardHandler),
		minBackoff: 100 * time.Millisecond, maxBackoff: 10 * time.Second, ping: 30 * time.Second,
	}
	for _, opt := range opts {
		opt(&o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Bus{cfg: conn.Copy(), pub: pub, o: o, stop: cancel, done: make(chan struct{}), subs: map[int]func(inapp.Signal){}}
	go b.listen(ctx)
	return b, nil
}

// payload is a signal on the wire: short keys, since NOTIFY payloads are
// limited to 8000 bytes.
type payload struct {
	T string `json:"t"`
	S string `json:"s"`
	I string `json:"i"`
}

// Publish sends s to every Bus listening on the channel, this one included.
func (b *Bus) Publish(ctx context.Context, s inapp.Signal) error {
	if s.Lost {
		return fmt.Errorf("pgbus: publish: %w", conversations.Invalid("signal.lost", "is the bus's own to raise"))
	}
	body, err := json.Marshal(payload{T: string(s.Tenant), S: string(s.Staff), I: s.ID})
	if err != nil {
		return fmt.Errorf("pgbus: publish: %w", err)
	}
	if len(body) > maxPayloadBytes {
		return fmt.Errorf("pgbus: publish: %w", conversations.Invalid("signal", fmt.Sprintf("%d bytes, over NOTIFY's limit", len(body))))
	}
	if _, err := b.pub.ExecContext(ctx, "SELECT pg_notify($1, $2)", b.o.channel, string(body)); err != nil {
		return fmt.Errorf("pgbus: publish: %w", err)
	}
	return nil
}

// Subscribe registers fn until the returned func is called. fn runs on the
// listener's goroutine.
func (b *Bus) Subscribe(fn func(inapp.Signal)) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.next
	b.next++
	b.subs[id] = fn
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, id)
	}
}

// Close stops the listener and waits for it. Publish keeps working (it uses
// pub), but nothing is received any more.
func (b *Bus) Close() error {
	b.stop()
	<-b.done
	return nil
}

func (b *Bus) deliver(s inapp.Signal) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, fn := range b.subs {
		fn(s)
	}
}

// listen keeps a LISTEN connection up until ctx ends. After every
// (re)connection it raises a Lost signal: whatever was published while it
// was down never reached it, so the Hubs catch up from the Log.
func (b *Bus) listen(ctx context.Context) {
	defer close(b.done)
	delay := b.o.minBackoff
	for {
		err := b.session(ctx, func() { delay = b.o.minBackoff })
		if ctx.Err() != nil {
			return
		}
		b.o.log.LogAttrs(ctx, slog.LevelWarn, "pgbus: listener lost its connection; reconnecting",
			slog.Duration("in", delay), slog.String("err", err.Error()))
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(2*delay, b.o.maxBackoff)
	}
}

// session runs one listening connection until it fails or ctx ends.
func (b *Bus) session(ctx context.Context, connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, b.cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{b.o.channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	connected()
	b.o.log.LogAttrs(ctx, slog.LevelDebug, "pgbus: listening", slog.String("channel", b.o.channel))
	b.deliver(inapp.Signal{Lost: true})
	for {
		waitCtx, cancel := context.WithTimeout(ctx, b.o.ping)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			// Quiet for a while: make sure the connection is still there.
			pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.Ping(pingCtx)
			cancel()
			if err != nil {
				return fmt.Errorf("ping: %w", err)
			}
			continue
		case err != nil:
			return fmt.Errorf("wait: %w", err)
		}
		var p payload
		if err := json.Unmarshal([]byte(n.Payload), &p); err != nil || p.T == "" || p.S == "" {
			b.o.log.LogAttrs(ctx, slog.LevelWarn, "pgbus: ignoring a malformed notification", slog.String("payload", n.Payload))
			continue
		}
		b.deliver(inapp.Signal{Tenant: conversations.TenantID(p.T), Staff: conversations.StaffID(p.S), ID: p.I})
	}
}
