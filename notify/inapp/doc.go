// Package inapp is the app's realtime channel: a Hub that is both the
// conversations.Notifier the Service tells of new messages, status changes
// and reads, and the http.Handler that streams each staff member's
// notifications, with their badge, to every device they have connected, as
// Server-Sent Events.
//
// # Wiring
//
//	access, err := conversations.NewThreadAccess(db, policy.Default())
//	hub, err := inapp.New(inapp.Config{
//		Log: db, // *store.DB
//		Authenticate: func(r *http.Request) (conversations.Viewer, error) {
//			return myAuth.Viewer(r) // the host's own check; an error is 401
//		},
//		Visibility: access, // revoked access holds on replay and live
//	})
//	mux.Handle("GET /conversations/stream", hub)
//	srv.RegisterOnShutdown(func() { hub.Close() })
//
// # Nothing missed
//
// Notify logs every notification in the Log (per recipient, with ids that
// increase in commit order) before anything is streamed. A phone that lost
// its signal reconnects with the Last-Event-ID header (EventSource does this
// by itself) and gets exactly the events it missed, replayed from the Log,
// followed by a ready event. If it was away longer than the replay window
// (WithReplayWindow, 24 h by default) or sends an id the server does not
// know, it gets a resync event instead and reloads its inbox. The Hub prunes
// what is older than the window when the Log can prune.
//
// # Revoked access
//
// A notification was logged for someone who could see its thread then. With
// a Visibility, every event that names a thread is checked again as it
// leaves: a replay asks once per page, a live read once per read for the
// staff member, and events waiting for a slow connection are asked again
// when a badge event (which the Service sends whoever's access changed)
// follows them. An event its recipient may no longer see is withheld: its id
// is sent alone, which moves the client's Last-Event-ID and fires no event,
// so the client never asks for it again. Badge events are never withheld.
//
// # Many instances
//
// Notify also publishes a small Signal (tenant, staff, id) on the Bus. The
// Hub of every instance that has a stream for that staff member reads the
// new notifications from the Log, once per staff member however many of
// their devices are connected, and shares the encoded events among those
// streams. On one instance the Bus is a LocalBus; instances sharing a
// PostgreSQL database use pgbus (LISTEN/NOTIFY), so a message received by
// one instance reaches a phone connected to another.
//
// # Slow clients
//
// The events read for a staff member wait in one shared ring (WithBuffer)
// for each of their streams to write them. The Hub never waits for a
// stream: one that falls more than the ring behind (its phone reads slowly,
// or the server was short of CPU and ran its writer late) stops holding the
// ring and catches up by reading the Log from the last id it wrote, as a
// reconnect would, then takes the ring again. Only the client's pace ends a
// stream: a write it does not take within WithWriteTimeout closes it, and it
// resumes with Last-Event-ID. Memory is therefore bounded by the ring and a
// page of the Log per catching-up stream, a stalled phone never delays
// anyone else's events, and a busy server does not disconnect healthy
// phones (which would then all reconnect at once).
package inapp
