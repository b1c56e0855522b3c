package inapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/notify"
)

// Log is where a Hub keeps notifications for replay. *store.DB implements
// it.
//
// Ids are per recipient: every id issued to one recipient sorts (as a
// string) after those issued before, and a notification that commits later
// never gets a smaller id than one already committed. That is what lets a
// stream continue "after id" without missing anything.
type Log interface {
	// AppendNotification logs n for n.Recipient and returns it with ID set.
	AppendNotification(ctx context.Context, n conversations.Notification) (conversations.Notification, error)
	// NotificationsSince returns up to limit of staff's notifications after
	// afterID ("" means from the first), oldest first. When it can no
	// longer continue from afterID (what followed was pruned, or afterID
	// was never issued to staff) the error is ErrNotFound; a malformed
	// afterID is ErrInvalid.
	NotificationsSince(ctx context.Context, tenant conversations.TenantID, staff conversations.StaffID, afterID string, limit int) ([]conversations.Notification, error)
	// LatestNotificationID returns the id of staff's newest notification
	// or, before the first, a position that continues to it.
	LatestNotificationID(ctx context.Context, tenant conversations.TenantID, staff conversations.StaffID) (string, error)
}

// BatchLog is a Log that appends several notifications at once (one
// statement on PostgreSQL): the Hub's NotifyBatch uses it when its Log is
// one. *store.DB implements it. AppendNotifications means what
// AppendNotification of each would, in order, and returns them with their
// ids; an invalid one logs none.
type BatchLog interface {
	AppendNotifications(ctx context.Context, ns []conversations.Notification) ([]conversations.Notification, error)
}

// Pruner is a Log that can forget old notifications. A Hub whose Log is one
// prunes what is older than its replay window (WithPruneInterval).
type Pruner interface {
	PruneNotifications(ctx context.Context, before time.Time) (int64, error)
}

// Config assembles a Hub.
type Config struct {
	// Log keeps notifications for replay; required (*store.DB).
	Log Log
	// Authenticate tells who is asking for a stream; required. The host
	// checks its own credentials (a bearer token, a session cookie) and
	// returns the viewer, or an error, which is answered 401. Hosts whose
	// middleware already put the viewer in the request context return it
	// from there.
	Authenticate func(r *http.Request) (conversations.Viewer, error)
	// Bus carries signals between server instances. Nil means a LocalBus:
	// one instance only. Several instances on one PostgreSQL database use
	// pgbus.
	Bus Bus
	// Visibility decides, as events leave the hub, whether their recipient
	// may still see the thread they name (*conversations.ThreadAccess). An
	// event the recipient no longer may see is not shown: its id still
	// reaches the client, alone (see ServeHTTP), so the client's position
	// moves past it. Nil shows every logged event: only for hosts whose
	// staff never lose access to a thread.
	Visibility notify.Visibility
}

// Hub is the in-app realtime channel. As a conversations.Notifier it logs
// each notification and signals the Bus; as an http.Handler it streams each
// viewer's notifications to every device the viewer has connected, as
// Server-Sent Events. Safe for concurrent use.
type Hub struct {
	log   Log
	vis   notify.Visibility
	bus   Bus
	auth  func(*http.Request) (conversations.Viewer, error)
	o     options
	unsub func()

	ctx     context.Context // ends at Close: live fetches, pruning
	cancel  context.CancelFunc
	closing chan struct{}
	sem     chan struct{} // bounds concurrent live fetches
	wg      sync.WaitGroup
	once    sync.Once

	mu     sync.Mutex
	closed bool
	groups map[recipient]*group
	conns  int
}

var (
	_ conversations.Notifier = (*Hub)(nil)
	_ http.Handler           = (*Hub)(nil)
)

type recipient struct {
	tenant conversations.TenantID
	staff  conversations.StaffID
}

// group is one recipient's streams on this instance. The live events of a
// recipient are read from the Log once per group, by one fetch at a time, in
// id order, encoded once, and put in the group's ring, from which each
// connection's writer takes them at its own pace.
type group struct {
	who      recipient
	conns    []*conn       // oldest first
	initDone chan struct{} // closed once cursor (or initErr) is set
	initErr  error
	ready    bool
	cursor   string // the newest id read for the group
	fetching bool
	pending  bool // a signal came while fetching or before ready
	failures int  // consecutive failed fetches, for the retry backoff

	// ring holds the frames some connection has yet to write: frame number
	// n is ring[n%size], head is the number of the next frame, tail the
	// oldest one still held. It is allocated when frames arrive and let go
	// once every connection has taken them, so an idle recipient costs none.
	ring       []*frame
	head, tail uint64
}

// conn is one stream: next is the number of the next frame it writes.
// The hub never waits for it. A connection whose writer falls more than the
// ring's length behind (its client is slow, or the server was short of CPU
// and did not schedule the writer in time) is marked lagging and no longer
// holds the ring: its writer catches up by reading the Log from the last id
// it wrote, as a reconnect's replay does, and then takes the ring again.
// Only the client's own pace ends a stream: a write that does not finish
// within the write timeout (WithWriteTimeout), after which the client
// resumes with Last-Event-ID.
type conn struct {
	next    uint64
	lagging bool
	wake    chan struct{} // capacity 1: there are frames to write
	gone    chan struct{}
}

// appendLocked adds frames to the group's ring and wakes its connections,
// marking lagging those that fall too far behind to take them from the ring.
func (h *Hub) appendLocked(g *group, frames []*frame) {
	size := uint64(h.o.buffer)
	if g.ring == nil && len(frames) > 0 {
		g.ring = make([]*frame, size)
	}
	for _, f := range frames {
		g.ring[g.head%size] = f
		g.head++
	}
	for _, c := range g.conns {
		if !c.lagging && g.head-c.next > size {
			c.lagging = true
			h.o.log.LogAttrs(h.ctx, slog.LevelDebug, "inapp: stream fell behind; it catches up from the log",
				slog.String("tenant", string(g.who.tenant)), slog.String("staff", string(g.who.staff)))
		}
		select {
		case c.wake <- struct{}{}:
		default: // already woken
		}
	}
	h.trimLocked(g)
}

// takeLocked returns the frames c has yet to write. When c is lagging it
// returns none, and instead true and the id up to which c must read the Log before
// it takes the ring again (the group's cursor: the ring holds what comes
// after it).
func (h *Hub) takeLocked(g *group, c *conn) (frames []*frame, lagging bool, catchUpTo string) {
	if c.lagging {
		c.lagging, c.next = false, g.head
		h.trimLocked(g)
		return nil, true, g.cursor
	}
	size := uint64(h.o.buffer)
	frames = make([]*frame, 0, g.head-c.next)
	for n := c.next; n < g.head; n++ {
		frames = append(frames, g.ring[n%size])
	}
	c.next = g.head
	h.trimLocked(g)
	return frames, false, ""
}

// trimLocked lets go of the frames every connection has taken (a lagging
// one reads the Log instead), so an idle recipient's ring holds nothing.
func (h *Hub) trimLocked(g *group) {
	low := g.head
	for _, c := range g.conns {
		if !c.lagging {
			low = min(low, c.next)
		}
	}
	size := uint64(h.o.buffer)
	if low == g.head {
		g.ring, g.tail = nil, low // nothing left to write
		return
	}
	for g.tail < low {
		if g.head-g.tail <= size {
			g.ring[g.tail%size] = nil
		}
		g.tail++
	}
}

// frame is one encoded event, shared by every connection it goes to.
type frame struct {
	id string
	b  []byte
	// thread is the thread the event names, when only those who may see it
	// may be shown it. withheld says the recipient may not see it (b is
	// then nil); revoked, that a later check found the recipient no longer
	// may (see recheck). A withheld or revoked event's id is written alone.
	thread   conversations.ThreadID
	withheld bool
	revoked  atomic.Bool
}

// shown reports whether f's event may be written, rather than its id alone.
func (f *frame) shown() bool { return !f.withheld && !f.revoked.Load() }

// New returns a Hub. Close it to end its streams and background work.
func New(cfg Config, opts ...Option) (*Hub, error) {
	if cfg.Log == nil {
		return nil, fmt.Errorf("inapp: new: %w", conversations.Invalid("config.log", "required (*store.DB is one)"))
	}
	if cfg.Authenticate == nil {
		return nil, fmt.Errorf("inapp: new: %w", conversations.Invalid("config.authenticate", "required"))
	}
	o := defaults()
	for _, opt := range opts {
		opt(&o)
	}
	bus := cfg.Bus
	if bus == nil {
		bus = NewLocalBus()
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{
		log: cfg.Log, vis: cfg.Visibility, bus: bus, auth: cfg.Authenticate, o: o,
		ctx: ctx, cancel: cancel, closing: make(chan struct{}),
		sem: make(chan struct{}, o.fetchParallel), groups: map[recipient]*group{},
	}
	h.unsub = bus.Subscribe(h.onSignal)
	if p, ok := cfg.Log.(Pruner); ok && o.pruneInterval > 0 {
		h.wg.Add(1)
		go h.prune(p)
	}
	return h, nil
}

var _ conversations.BatchNotifier = (*Hub)(nil)

// Notify logs n for its recipient and signals every instance's Hub, which
// streams it to the recipient's connected devices. A zero n.At means now.
func (h *Hub) Notify(ctx context.Context, n conversations.Notification) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("inapp: notify: %w", err)
	}
	if err := n.Check(); err != nil {
		return fmt.Errorf("inapp: notify: %w", err)
	}
	if n.At.IsZero() {
		n.At = h.o.now()
	}
	logged, err := h.log.AppendNotification(ctx, n)
	if err != nil {
		return fmt.Errorf("inapp: notify: log: %w", err)
	}
	return h.publish(ctx, []conversations.Notification{logged})
}

// NotifyBatch logs ns, in order, and signals every instance's Hub of each
// recipient's newest: Notify of each, with one write to a Log that is a
// BatchLog (store.DB's, one statement). An invalid notification logs none.
func (h *Hub) NotifyBatch(ctx context.Context, ns []conversations.Notification) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("inapp: notify: %w", err)
	}
	ns = slices.Clone(ns)
	for i := range ns {
		if err := ns[i].Check(); err != nil {
			return fmt.Errorf("inapp: notify: notifications[%d]: %w", i, err)
		}
		if ns[i].At.IsZero() {
			ns[i].At = h.o.now()
		}
	}
	bl, ok := h.log.(BatchLog)
	if !ok {
		var errs []error
		for _, n := range ns {
			if err := h.Notify(ctx, n); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	logged, err := bl.AppendNotifications(ctx, ns)
	if err != nil {
		return fmt.Errorf("inapp: notify: log: %w", err)
	}
	return h.publish(ctx, logged)
}

// publish signals, for each recipient of logged, the newest of theirs: a
// Hub reads everything up to it from the Log.
func (h *Hub) publish(ctx context.Context, logged []conversations.Notification) error {
	newest := map[recipient]int{}
	var order []recipient
	for i, n := range logged {
		who := recipient{n.Tenant, n.Recipient}
		if _, ok := newest[who]; !ok {
			order = append(order, who)
		}
		if j, ok := newest[who]; !ok || logged[j].ID < n.ID {
			newest[who] = i
		}
	}
	var errs []error
	for _, who := range order {
		n := logged[newest[who]]
		sig := Signal{Tenant: n.Tenant, Staff: n.Recipient, ID: n.ID}
		if err := h.bus.Publish(ctx, sig); err != nil {
			// This instance's streams need no bus; the others will catch up
			// at their next signal for the recipient, or when the client
			// reconnects.
			h.onSignal(sig)
			errs = append(errs, fmt.Errorf("inapp: notify: publish: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Connections returns the number of streams this instance is feeding (a
// dropped stream stops counting at once, though its request may take up to
// the write timeout to end).
func (h *Hub) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.conns
}

// Close ends every stream (clients reconnect, to another instance if this
// one is going away), stops listening to the Bus and waits for the Hub's
// goroutines. New streams are refused with 503. Call it when the server
// shuts down (http.Server.RegisterOnShutdown), since streams never end on
// their own.
func (h *Hub) Close() error {
	h.once.Do(func() {
		h.mu.Lock()
		h.closed = true
		h.mu.Unlock()
		h.unsub()
		close(h.closing)
		h.cancel()
	})
	h.wg.Wait()
	return nil
}

// onSignal starts a fetch for the signalled recipient, if it has streams
// here and the signal is news.
func (h *Hub) onSignal(s Signal) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	if s.Lost {
		for _, g := range h.groups {
			h.kickLocked(g)
		}
		return
	}
	g := h.groups[recipient{s.Tenant, s.Staff}]
	if g == nil {
		return
	}
	if g.ready && s.ID != "" && s.ID <= g.cursor {
		return // already read (this instance's own signal, echoed by the bus)
	}
	h.kickLocked(g)
}

func (h *Hub) kickLocked(g *group) {
	if !g.ready || g.fetching {
		g.pending = true
		return
	}
	g.fetching = true
	g.pending = false
	h.wg.Add(1)
	go h.fetch(g)
}

// fetchPage is how many notifications one read of the Log takes at most.
// A live read takes no more than half the ring, so that a connection whose
// writer runs between two reads never has to catch up from the Log.
const fetchPage = 100

func (h *Hub) livePage() int { return max(1, min(fetchPage, h.o.buffer/2)) }

// fetch reads a group's new notifications from the Log until it has caught
// up, and hands them to the group's connections.
func (h *Hub) fetch(g *group) {
	defer h.wg.Done()
	for {
		select {
		case h.sem <- struct{}{}:
		case <-h.ctx.Done():
			return
		}
		h.mu.Lock()
		cursor := g.cursor
		g.pending = false
		h.mu.Unlock()
		frames, next, n, revoking, err := h.read(g.who, cursor)
		if err == nil && revoking {
			err = h.recheck(g)
		}
		<-h.sem

		h.mu.Lock()
		if err != nil {
			g.fetching = false
			g.failures++
			delay := min(time.Duration(1<<min(g.failures, 6))*100*time.Millisecond, 5*time.Second)
			h.mu.Unlock()
			if h.ctx.Err() == nil {
				h.o.log.LogAttrs(h.ctx, slog.LevelWarn, "inapp: live read failed; retrying",
					slog.String("tenant", string(g.who.tenant)), slog.String("staff", string(g.who.staff)),
					slog.Duration("in", delay), slog.String("err", err.Error()))
				time.AfterFunc(delay, func() { h.onSignal(Signal{Tenant: g.who.tenant, Staff: g.who.staff}) })
			}
			return
		}
		g.failures = 0
		g.cursor = next
		h.appendLocked(g, frames)
		if len(g.conns) == 0 || (n < h.livePage() && !g.pending) {
			g.fetching = false
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
	}
}

// read returns the frames of who's notifications after cursor, the new
// cursor, how many notifications it read, and whether one of them may have
// been a revocation (a badge event: the Service sends one to every staff
// member whose access changed). When the Log cannot continue from cursor
// (this instance missed signals for longer than the Log keeps
// notifications) the frames are one resync event. An event who may no
// longer see is a frame of its id alone.
func (h *Hub) read(who recipient, cursor string) ([]*frame, string, int, bool, error) {
	ns, err := h.log.NotificationsSince(h.ctx, who.tenant, who.staff, cursor, h.livePage())
	if errors.Is(err, conversations.ErrNotFound) {
		latest, err := h.log.LatestNotificationID(h.ctx, who.tenant, who.staff)
		if err != nil {
			return nil, "", 0, false, err
		}
		// What was missed may have been a revocation.
		return []*frame{resyncFrame(latest, "gap")}, latest, 0, true, nil
	}
	if err != nil {
		return nil, "", 0, false, err
	}
	frames, err := h.frames(h.ctx, ns)
	if err != nil {
		return nil, "", 0, false, err
	}
	revoking := false
	for _, n := range ns {
		cursor = n.ID
		revoking = revoking || n.Type == conversations.EventBadge
	}
	return frames, cursor, len(ns), revoking, nil
}

// frames encodes one recipient's notifications, checking once, for all of
// them, which the recipient may still see.
func (h *Hub) frames(ctx context.Context, ns []conversations.Notification) ([]*frame, error) {
	show, err := notify.Visible(ctx, h.vis, ns)
	if err != nil {
		return nil, fmt.Errorf("inapp: visibility: %w", err)
	}
	frames := make([]*frame, 0, len(ns))
	for i, n := range ns {
		if !show[i] {
			frames = append(frames, &frame{id: n.ID, withheld: true})
			continue
		}
		f, err := eventFrame(n)
		if err != nil {
			return nil, err
		}
		if h.vis != nil && conversations.NamesThread(n) {
			f.thread = n.Thread
		}
		frames = append(frames, f)
	}
	return frames, nil
}

// recheck asks again whether g's recipient may see the threads of the
// frames still waiting in its ring for some connection, and marks revoked
// those it may no longer see. fetch calls it when it read what may be a
// revocation, before handing over what it read: events read before the
// revocation and not yet written then obey it too.
func (h *Hub) recheck(g *group) error {
	h.mu.Lock()
	var waiting []*frame
	size := uint64(h.o.buffer)
	for n := g.tail; n < g.head && g.ring != nil; n++ {
		if f := g.ring[n%size]; f != nil && f.thread != "" && f.shown() {
			waiting = append(waiting, f)
		}
	}
	h.mu.Unlock()
	if len(waiting) == 0 {
		return nil
	}
	threads := make([]conversations.ThreadID, len(waiting))
	for i, f := range waiting {
		threads[i] = f.thread
	}
	ok, err := h.vis.VisibleThreads(h.ctx, g.who.tenant, g.who.staff, threads)
	if err != nil {
		return fmt.Errorf("inapp: visibility: %w", err)
	}
	for _, f := range waiting {
		if !slices.Contains(ok, f.thread) {
			f.revoked.Store(true)
		}
	}
	return nil
}

// join registers a new connection for who. The first connection of a
// recipient creates its group and must then call initGroup.
func (h *Hub) join(who recipient) (g *group, c *conn, creator bool, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, false, errClosed
	}
	g = h.groups[who]
	if g == nil {
		g = &group{who: who, initDone: make(chan struct{})}
		h.groups[who] = g
		creator = true
	}
	c = &conn{next: g.head, wake: make(chan struct{}, 1), gone: make(chan struct{})}
	g.conns = append(g.conns, c)
	h.conns++ // removeLocked takes it back
	if len(g.conns) > h.o.maxConns {
		h.dropLocked(g, g.conns[0])
	}
	return g, c, creator, nil
}

// initGroup sets a new group's cursor to the recipient's newest id, read
// after the first connection joined: everything after it reaches the group
// live, and a connection's own replay (also read after it joined) covers
// everything before.
func (h *Hub) initGroup(ctx context.Context, g *group) (string, error) {
	latest, err := h.log.LatestNotificationID(ctx, g.who.tenant, g.who.staff)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		g.initErr = err
		if h.groups[g.who] == g {
			delete(h.groups, g.who) // the next connection starts afresh
		}
	} else {
		g.cursor, g.ready = latest, true
		if g.pending && !h.closed {
			h.kickLocked(g)
		}
	}
	close(g.initDone)
	return latest, err
}

// leave unregisters a connection when its stream ends.
func (h *Hub) leave(g *group, c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(g, c)
	if len(g.conns) == 0 && h.groups[g.who] == g {
		delete(h.groups, g.who)
	}
	h.trimLocked(g)
}

// take returns the frames c has yet to write, or where it must catch up to
// from the Log (see takeLocked).
func (h *Hub) take(g *group, c *conn) (frames []*frame, lagging bool, catchUpTo string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.takeLocked(g, c)
}

// dropLocked ends a connection's stream from the hub's side.
func (h *Hub) dropLocked(g *group, c *conn) {
	if h.removeLocked(g, c) {
		close(c.gone)
	}
}

func (h *Hub) removeLocked(g *group, c *conn) bool {
	for i, x := range g.conns {
		if x == c {
			g.conns = append(g.conns[:i], g.conns[i+1:]...)
			h.conns--
			return true
		}
	}
	return false
}

// prune forgets notifications older than the replay window, periodically.
func (h *Hub) prune(p Pruner) {
	defer h.wg.Done()
	t := time.NewTicker(h.o.pruneInterval)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		n, err := p.PruneNotifications(h.ctx, h.o.now().Add(-h.o.window))
		if err != nil {
			if h.ctx.Err() == nil {
				h.o.log.LogAttrs(h.ctx, slog.LevelWarn, "inapp: prune failed", slog.String("err", err.Error()))
			}
			continue
		}
		h.o.log.LogAttrs(h.ctx, slog.LevelDebug, "inapp: pruned notifications", slog.Int64("count", n))
	}
}

var errClosed = errors.New("inapp: hub closed")
