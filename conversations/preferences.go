package conversations

import (
	"context"
	"time"
)

// EventPreferences tells a staff member's other devices that their
// notification preferences or mutes changed (Thread names the thread a
// mute or unmute was about, else it is empty), with their badge, which
// muting changes when ExcludeMutedFromBadge is set.
const EventPreferences EventType = "preferences"

// PushMode says which messages reach a staff member's phone as a push. The
// in-app stream carries every event whatever the mode: the mode only decides
// what makes the phone show something and make a sound.
type PushMode string

const (
	// PushDefault is the role's default: PushWatched.
	PushDefault PushMode = ""
	// PushAll: every customer message of the business (dispatchers and
	// admins only, who may see them all), as well as their own threads.
	PushAll PushMode = "all"
	// PushWatched: messages of the threads the staff member watches (takes
	// part in, or is assigned to through a job; a dispatcher also gets the
	// customer threads nobody watches).
	PushWatched PushMode = "watched"
	// PushUrgent: escalations only (a customer handed to a person, an
	// emergency).
	PushUrgent PushMode = "urgent"
)

// Valid reports whether m is a known mode.
func (m PushMode) Valid() bool {
	switch m {
	case PushDefault, PushAll, PushWatched, PushUrgent:
		return true
	}
	return false
}

// AllowedFor reports whether a staff member of role may choose m:
// technicians see only their own customer threads, so "every customer
// message" is not theirs to ask for.
func (m PushMode) AllowedFor(role Role) bool {
	return m.Valid() && (m != PushAll || role == RoleDispatcher || role == RoleAdmin)
}

// PreviewMode says how much of a message a push shows on a locked phone.
type PreviewMode string

const (
	// PreviewFull (or empty) shows the message text.
	PreviewFull PreviewMode = "full"
	// PreviewHidden shows "New message" only: nothing of the text or of who
	// wrote it.
	PreviewHidden PreviewMode = "hidden"
)

// Valid reports whether m is a known preview mode ("" is PreviewFull).
func (m PreviewMode) Valid() bool { return m == "" || m == PreviewFull || m == PreviewHidden }

// Preferences are one staff member's notification settings, stored by the
// library so that every device of theirs follows them.
type Preferences struct {
	Tenant TenantID
	Staff  StaffID
	// Push chooses which messages push (PushDefault: PushWatched).
	Push PushMode
	// Preview chooses what a push shows ("": PreviewFull).
	Preview PreviewMode
	// Quiet is the person's own daily window without pushes (the stream
	// still updates, and the badge still counts). Same form as the
	// business's QuietHours; empty means none.
	Quiet QuietHours
	// ExcludeMutedFromBadge leaves muted threads out of the badge (and so
	// out of every badge a Notification carries). Muted threads stay in
	// the inbox with their unread counts either way.
	ExcludeMutedFromBadge bool
	// Muted lists the threads the person muted, in id order. It is set by
	// Mute and Unmute; SetPreferences ignores it.
	Muted     []ThreadID
	UpdatedAt time.Time
}

// RecipientPreferences is what deciding one notification needs of its
// recipient: their preferences (without Muted) and whether they muted the
// notification's thread.
type RecipientPreferences struct {
	Preferences Preferences
	ThreadMuted bool
}

// PreferenceStore keeps staff members' notification preferences and mutes.
//
// It is an optional interface of a Store, found by type assertion (as
// database/sql/driver finds a driver's extra abilities): a Store without it
// keeps compiling and working, with every person on the defaults and
// nothing muted, which is what notifications did before preferences
// existed. The store package implements it; store/storetest checks it when
// present. A Store bound to a transaction (Tx) implements it when the Store
// does.
//
// Rules, on top of the Store's: every method is scoped to the tenant it is
// given; a staff member who never saved preferences gets the zero
// Preferences (Tenant and Staff set), not ErrNotFound. Badge and Badges of a
// Store that implements it honour ExcludeMutedFromBadge.
type PreferenceStore interface {
	// PutPreferences creates or replaces p (p.Muted is ignored).
	PutPreferences(ctx context.Context, p Preferences) error
	// GetPreferences returns staff's preferences with Muted filled in.
	GetPreferences(ctx context.Context, tenant TenantID, staff StaffID) (Preferences, error)
	// SetMuted mutes (muted true) or unmutes a thread for staff; doing
	// what is already done is not an error. A thread the tenant does not
	// have is ErrNotFound.
	SetMuted(ctx context.Context, tenant TenantID, staff StaffID, thread ThreadID, muted bool, at time.Time) error
	// RecipientPreferences returns, for each of asks in order, its staff
	// member's preferences and whether they muted its thread (never, for
	// an ask without one), answered together: one statement for all the
	// notifications of a fan-out, whatever threads they are about.
	RecipientPreferences(ctx context.Context, tenant TenantID, asks []PreferenceAsk) ([]RecipientPreferences, error)
}

// PreferenceAsk is one notification's recipient and thread ("" for none),
// as PreferenceStore.RecipientPreferences takes them.
type PreferenceAsk struct {
	Staff  StaffID
	Thread ThreadID
}

// pushes reports whether n should reach a phone as a push that shows
// something, for a recipient with rp, at now: not for a muted thread, not in
// their quiet hours, and for a message, only when their push mode asks for
// it. Events that show nothing anyway (a read, a badge) are not affected.
func pushes(n Notification, rp RecipientPreferences, now time.Time) bool {
	if rp.ThreadMuted && n.Thread != "" {
		return false
	}
	if q := rp.Preferences.Quiet; !q.Next(now).Equal(now) {
		return false
	}
	if n.Type != EventMessage {
		return true
	}
	switch rp.Preferences.Push {
	case PushUrgent:
		return urgent(n)
	}
	return true
}

// urgent reports whether n is about an escalation (or is marked urgent).
func urgent(n Notification) bool {
	return n.Urgent || (n.Message != nil && (n.Message.Urgent || n.Message.Kind == KindEscalation))
}
