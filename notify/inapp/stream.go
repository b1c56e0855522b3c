package inapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/notify"
)

// Event types a stream carries besides the notification types
// (conversations.EventMessage, EventStatus, EventRead).
const (
	// EventReady says the stream is live: for a new stream it comes first
	// and carries the id to resume from; for a resumed one it follows the
	// replay of what the client missed.
	EventReady = "ready"
	// EventResync says the client missed more than the stream can replay
	// (it was away longer than the replay window, or sent an id the server
	// does not know): it should reload its inbox and badge. Its id is where
	// the stream continues from.
	EventResync = "resync"
)

// Marker is the data of a ready or resync event.
type Marker struct {
	LastID   string `json:"last_id"`
	Replayed int    `json:"replayed,omitempty"` // ready after a resume: events replayed
	Reason   string `json:"reason,omitempty"`   // resync: "expired", "unknown_id", "too_many", "gap"
}

// maxLastEventIDBytes bounds the Last-Event-ID header a client may send.
const maxLastEventIDBytes = 256

// ServeHTTP streams the authenticated viewer's notifications as Server-Sent
// Events:
//
//	id: 0000000000000042
//	event: message
//	data: {"id":"0000000000000042","type":"message","thread":"...","message":{...},"badge":3,...}
//
// An event that names a thread the viewer may no longer see (access was
// revoked after it was logged) is not shown: in its place the stream sends
// its id alone,
//
//	id: 0000000000000043
//
// which, by the SSE rules, moves the client's Last-Event-ID and dispatches
// nothing (EventSource fires no event for it). Ids thus stay gapless for the
// client, and a reconnect does not ask for the withheld event again. Where
// a shown event follows in the same write, the withheld id is left out, as
// the later id moves the client past it anyway.
//
// A new stream begins with a ready event whose id is the viewer's newest
// notification. A client that reconnects with Last-Event-ID gets exactly the
// events it missed, then ready; if it missed more than the replay window
// holds, it gets a resync event instead. Comment lines keep an idle stream
// open. A request that fails authentication is answered 401; once the
// stream has started, trouble on the server's side ends it, and the client
// reconnects after the retry delay the stream set (as EventSource does).
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "inapp: the stream is read with GET", http.StatusMethodNotAllowed)
		return
	}
	v, err := h.auth(r)
	if err == nil {
		err = v.Validate()
	}
	if err != nil {
		http.Error(w, "inapp: unauthenticated", http.StatusUnauthorized)
		return
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		http.Error(w, "inapp: shutting down", http.StatusServiceUnavailable)
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	defer h.wg.Done()

	ctx := r.Context()
	log := h.o.log.With(slog.String("tenant", string(v.Tenant)), slog.String("staff", string(v.Staff)))
	s := &stream{h: h, w: w, rc: http.NewResponseController(w), log: log}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if err := s.write([]byte("retry: " + strconv.FormatInt(h.o.retry.Milliseconds(), 10) + "\n\n")); err != nil {
		if errors.Is(err, http.ErrNotSupported) {
			log.ErrorContext(ctx, "inapp: the ResponseWriter cannot flush; no stream possible")
		}
		return
	}

	g, c, creator, err := h.join(recipient{v.Tenant, v.Staff})
	if err != nil {
		return
	}
	defer h.leave(g, c)
	s.g, s.c = g, c
	var latest string
	if creator {
		latest, err = h.initGroup(ctx, g)
	} else {
		select {
		case <-g.initDone:
			err = g.initErr
		case <-ctx.Done():
			return
		}
		if err == nil {
			latest, err = h.log.LatestNotificationID(ctx, v.Tenant, v.Staff)
		}
	}
	if err != nil {
		s.fail(ctx, "start", err)
		return
	}

	if last := r.Header.Get("Last-Event-ID"); last != "" {
		err = s.replay(ctx, v, last)
	} else {
		s.last = latest
		err = s.writeFrame(markerFrame(EventReady, latest, true, Marker{LastID: latest}))
	}
	if err != nil {
		s.fail(ctx, "replay", err)
		return
	}
	s.loop(ctx, v)
}

// stream is the writing side of one connection.
type stream struct {
	h    *Hub
	w    http.ResponseWriter
	rc   *http.ResponseController
	log  *slog.Logger
	g    *group
	c    *conn
	last string // the id of the newest event written (or withheld)
	// withheld is the id of the newest withheld event when no event was
	// written after it: the client has yet to be told of it.
	withheld string
}

// replay writes what the client missed after its Last-Event-ID, oldest
// first, and then ready; or resync, when that is not possible.
func (s *stream) replay(ctx context.Context, v conversations.Viewer, after string) error {
	s.last = after
	if len(after) > maxLastEventIDBytes {
		return s.resync(ctx, v, "unknown_id")
	}
	replayed, reason, err := s.readLog(ctx, v, "")
	switch {
	case err != nil:
		return err
	case reason != "":
		return s.resync(ctx, v, reason)
	}
	if err := s.writeWithheld(); err != nil {
		return err
	}
	return s.writeFrame(markerFrame(EventReady, s.last, false, Marker{LastID: s.last, Replayed: replayed}))
}

// catchUp writes, from the Log, what a lagging stream has not written up to
// the id upTo (see conn), so that it can take the ring again. Unlike a
// replay it is not bounded by the replay window or WithMaxReplay: the
// client is connected and reading, and the Log is read a page at a time.
func (s *stream) catchUp(ctx context.Context, v conversations.Viewer, upTo string) error {
	_, reason, err := s.readLog(ctx, v, upTo)
	switch {
	case err != nil:
		return err
	case reason != "":
		return s.resync(ctx, v, reason)
	}
	return s.writeBatch(nil, true)
}

// readLog writes v's notifications after s.last, a page at a time, until
// the Log has no more or, when upTo is set, it has written upTo. A replay
// (upTo "") stops at the replay window and WithMaxReplay. It returns how
// many it read, or the reason for a resync when it cannot continue.
func (s *stream) readLog(ctx context.Context, v conversations.Viewer, upTo string) (read int, resync string, err error) {
	h := s.h
	replay := upTo == ""
	for replay || s.last < upTo {
		ns, err := h.log.NotificationsSince(ctx, v.Tenant, v.Staff, s.last, fetchPage)
		switch {
		case errors.Is(err, conversations.ErrInvalid):
			return read, "unknown_id", nil
		case errors.Is(err, conversations.ErrNotFound):
			// Pruned, or never issued to this viewer (another account's id
			// on a shared phone): either way there is nothing to continue.
			return read, "expired", nil
		case err != nil:
			return read, "", err
		}
		if replay && len(ns) > 0 && read == 0 && h.o.now().Sub(ns[0].At) > h.o.window {
			return read, "expired", nil
		}
		if replay && read+len(ns) > h.o.maxReplay {
			return read, "too_many", nil
		}
		frames, err := h.frames(ctx, ns)
		if err != nil {
			return read, "", err
		}
		if err := s.writeBatch(frames, false); err != nil {
			return read, "", err
		}
		read += len(ns)
		if len(ns) < fetchPage {
			break
		}
	}
	return read, "", nil
}

// resync tells the client to reload, and continues from the newest id.
func (s *stream) resync(ctx context.Context, v conversations.Viewer, reason string) error {
	latest, err := s.h.log.LatestNotificationID(ctx, v.Tenant, v.Staff)
	if err != nil {
		return err
	}
	return s.writeFrame(resyncFrame(latest, reason))
}

// loop writes live events and heartbeats until the client goes, the hub
// drops the connection, or the hub closes. A write the client does not take
// within the write timeout ends the stream: that client is really slow (or
// gone), and resumes with Last-Event-ID when it reconnects.
func (s *stream) loop(ctx context.Context, v conversations.Viewer) {
	hb := time.NewTicker(s.h.o.heartbeat)
	defer hb.Stop()
	for {
		var err error
		select {
		case <-s.c.wake:
			frames, lagging, upTo := s.h.take(s.g, s.c)
			if lagging {
				err = s.catchUp(ctx, v, upTo)
			} else {
				err = s.writeLive(frames)
			}
		case <-hb.C:
			err = s.write([]byte(":\n\n"))
		case <-s.c.gone:
			return
		case <-ctx.Done():
			return
		case <-s.h.closing:
			return
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				s.log.LogAttrs(ctx, slog.LevelInfo, "inapp: slow client dropped")
			}
			return // otherwise the client went away
		}
	}
}

// writeLive writes frames with one flush. Live events overlap the replay
// (they were read for the group while this stream caught up): ids say which
// are new.
func (s *stream) writeLive(frames []*frame) error { return s.writeBatch(frames, true) }

// writeBatch writes frames with one flush, within the write timeout; settle
// says whether to write a trailing withheld id now (live) or leave it to
// what follows (a replay page: the next page, or the replay's end).
func (s *stream) writeBatch(frames []*frame, settle bool) error {
	if err := s.rc.SetWriteDeadline(time.Now().Add(s.h.o.writeTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if err := s.writeEvents(frames); err != nil {
		return err
	}
	if settle {
		if err := s.writeWithheld(); err != nil {
			return err
		}
	}
	return s.rc.Flush()
}

// writeEvents writes the frames newer than the client's position, without
// flushing. Of a withheld event only the id is due, and only when nothing
// newer is written after it: it is kept in s.withheld until then (see
// writeWithheld), since the next id moves the client past it anyway.
func (s *stream) writeEvents(frames []*frame) error {
	for _, f := range frames {
		if f.id <= s.last {
			continue
		}
		s.last = f.id
		if !f.shown() {
			s.withheld = f.id
			continue
		}
		if _, err := s.w.Write(f.b); err != nil {
			return err
		}
		s.withheld = ""
	}
	return nil
}

// writeWithheld writes the id of the newest withheld event, when nothing
// newer was written after it, so the client's position moves past it.
func (s *stream) writeWithheld() error {
	if s.withheld == "" {
		return nil
	}
	_, err := s.w.Write([]byte("id: " + s.withheld + "\n\n"))
	s.withheld = ""
	return err
}

func (s *stream) writeFrame(f *frame) error {
	if err := s.write(f.b); err != nil {
		return err
	}
	if f.id != "" {
		s.last = f.id
	}
	return nil
}

// write writes b and flushes, within the write timeout.
func (s *stream) write(b []byte) error {
	if err := s.rc.SetWriteDeadline(time.Now().Add(s.h.o.writeTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	return s.rc.Flush()
}

func (s *stream) fail(ctx context.Context, op string, err error) {
	if ctx.Err() != nil {
		return // the client went away
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "inapp: stream ended: "+op, slog.String("err", err.Error()))
}

// eventFrame encodes a logged notification as an event.
func eventFrame(n conversations.Notification) (*frame, error) {
	data, err := json.Marshal(notify.NewPayload(n))
	if err != nil {
		return nil, err
	}
	return &frame{id: n.ID, b: encodeFrame(n.ID, true, string(n.Type), data)}, nil
}

func resyncFrame(latest, reason string) *frame {
	return markerFrame(EventResync, latest, true, Marker{LastID: latest, Reason: reason})
}

func markerFrame(event, id string, withID bool, m Marker) *frame {
	data, _ := json.Marshal(m) // a struct of strings and an int always encodes
	f := &frame{b: encodeFrame(id, withID, event, data)}
	if withID {
		f.id = id
	}
	return f
}

// encodeFrame writes one event. The data is JSON, which has no raw line
// breaks, so it is one data line; ids are the Log's, which have none either.
func encodeFrame(id string, withID bool, event string, data []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(id) + len(event) + len(data) + 24)
	if withID {
		b.WriteString("id: ")
		b.WriteString(id)
		b.WriteByte('\n')
	}
	b.WriteString("event: ")
	b.WriteString(event)
	b.WriteString("\ndata: ")
	b.Write(data)
	b.WriteString("\n\n")
	return b.Bytes()
}
