package inapp

import (
	"log/slog"
	"time"
)

// Defaults of the options.
const (
	DefaultHeartbeat        = 25 * time.Second // under the 30-60 s idle timeouts of common proxies
	DefaultReplayWindow     = 24 * time.Hour
	DefaultBuffer           = 128
	DefaultMaxReplay        = 1000
	DefaultRetry            = 3 * time.Second
	DefaultWriteTimeout     = 10 * time.Second
	DefaultPruneInterval    = time.Hour
	DefaultMaxConnsPerStaff = 16
	DefaultFetchParallelism = 8
)

// Option configures New.
type Option func(*options)

type options struct {
	log           *slog.Logger
	now           func() time.Time
	heartbeat     time.Duration
	window        time.Duration
	buffer        int
	maxReplay     int
	retry         time.Duration
	writeTimeout  time.Duration
	pruneInterval time.Duration
	maxConns      int
	fetchParallel int
}

func defaults() options {
	return options{
		log:           slog.New(slog.DiscardHandler),
		now:           time.Now,
		heartbeat:     DefaultHeartbeat,
		window:        DefaultReplayWindow,
		buffer:        DefaultBuffer,
		maxReplay:     DefaultMaxReplay,
		retry:         DefaultRetry,
		writeTimeout:  DefaultWriteTimeout,
		pruneInterval: DefaultPruneInterval,
		maxConns:      DefaultMaxConnsPerStaff,
		fetchParallel: DefaultFetchParallelism,
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

// WithClock sets the clock the replay window and pruning are measured by
// (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithHeartbeat sets how often an idle stream gets a comment line, which
// keeps proxies from closing it and lets the server notice a dead client.
func WithHeartbeat(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.heartbeat = d
		}
	}
}

// WithReplayWindow sets how far back a reconnecting client is caught up
// from the Log, measured from the notifications' At. A client that missed something older gets a "resync" event
// instead and reloads its inbox. Logged notifications older than the window
// are pruned when the Log can prune.
func WithReplayWindow(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.window = d
		}
	}
}

// WithBuffer sets how many events a connection may fall behind and still
// take them from memory (at least 2). A connection further behind catches
// up by reading the Log (see the package doc), so a slow client costs the
// others nothing and is closed only by WithWriteTimeout. The waiting
// events are shared by a staff member's connections (one ring per staff
// member per instance, holding only what some connection has yet to write),
// so a connection itself costs a few words however far behind it is.
func WithBuffer(n int) Option {
	return func(o *options) {
		if n >= 2 {
			o.buffer = n
		}
	}
}

// WithMaxReplay bounds how many missed events one reconnect replays; a
// client that missed more gets a "resync" event.
func WithMaxReplay(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxReplay = n
		}
	}
}

// WithRetry sets the reconnection delay the stream asks clients to use (the
// SSE retry field).
func WithRetry(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.retry = d
		}
	}
}

// WithWriteTimeout bounds each write to a client: a client that stops
// reading is dropped after it (the only way the Hub drops a slow client). It also overrides the server's WriteTimeout
// for the stream, which would otherwise cut every stream short.
func WithWriteTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.writeTimeout = d
		}
	}
}

// WithPruneInterval sets how often the Hub prunes notifications older than
// the replay window, when its Log implements Pruner. Zero or less disables
// pruning (the host prunes itself).
func WithPruneInterval(d time.Duration) Option {
	return func(o *options) { o.pruneInterval = d }
}

// WithMaxConnsPerStaff bounds the streams one staff member may hold on one
// instance; a new stream beyond it closes that member's oldest, which is
// most likely a phone that lost its network without the server noticing.
func WithMaxConnsPerStaff(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxConns = n
		}
	}
}

// WithFetchParallelism bounds how many Log reads for live events run at
// once, so that one message to many watchers does not take every database
// connection.
func WithFetchParallelism(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.fetchParallel = n
		}
	}
}
