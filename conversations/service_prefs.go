package conversations

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/trace"
)

// errNoPreferences is what the preference calls return over a Store that
// does not implement PreferenceStore.
var errNoPreferences = fmt.Errorf("conversations: preferences: the Store keeps no preferences (it does not implement PreferenceStore): %w", ErrUnavailable)

func (s *core) preferenceStore() (PreferenceStore, error) {
	ps, ok := s.store.(PreferenceStore)
	if !ok {
		return nil, errNoPreferences
	}
	return ps, nil
}

// Preferences returns v's notification preferences, with the threads v
// muted. Someone who never saved any gets the defaults.
func (s *App) Preferences(ctx context.Context, v Viewer) (_ Preferences, err error) {
	ctx, span := s.tel.start(ctx, "conversations.Preferences", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := v.Validate(); err != nil {
		return Preferences{}, err
	}
	ps, err := s.preferenceStore()
	if err != nil {
		return Preferences{}, err
	}
	return ps.GetPreferences(ctx, v.Tenant, v.Staff)
}

// SetPreferences replaces v's preferences with p and tells v's other
// devices (EventPreferences). p.Tenant and p.Staff may be left empty; set,
// they must be v's (else ErrForbidden). p.Muted and p.UpdatedAt are
// ignored. A push mode v's role may not choose (PushAll for a technician),
// an unknown mode or preview, or malformed quiet hours is a *FieldError; a
// bad input changes nothing. It returns the preferences as stored.
func (s *App) SetPreferences(ctx context.Context, v Viewer, p Preferences) (_ Preferences, err error) {
	ctx, span := s.tel.start(ctx, "conversations.SetPreferences", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	if err := v.Validate(); err != nil {
		return Preferences{}, err
	}
	if (p.Tenant != "" && p.Tenant != v.Tenant) || (p.Staff != "" && p.Staff != v.Staff) {
		return Preferences{}, errForbidden("preferences")
	}
	if err := p.validate(v.Role); err != nil {
		return Preferences{}, err
	}
	ps, err := s.preferenceStore()
	if err != nil {
		return Preferences{}, err
	}
	p.Tenant, p.Staff, p.Muted, p.UpdatedAt = v.Tenant, v.Staff, nil, s.now()
	if err := ps.PutPreferences(ctx, p); err != nil {
		return Preferences{}, err
	}
	out, err := ps.GetPreferences(ctx, v.Tenant, v.Staff)
	if err != nil {
		return Preferences{}, err
	}
	s.notifyPreferences(ctx, v, "")
	return out, nil
}

// validate checks p for a staff member of role.
func (p Preferences) validate(role Role) error {
	if !p.Push.Valid() {
		return Invalid("push", "not one of all, watched, urgent")
	}
	if !p.Push.AllowedFor(role) {
		return Invalid("push", "only dispatchers and admins may ask for every customer message")
	}
	if !p.Preview.Valid() {
		return Invalid("preview", "not one of full, hidden")
	}
	if err := CheckLine("quiet_hours.time_zone", p.Quiet.TimeZone, MaxIDRunes); err != nil {
		return err
	}
	return p.Quiet.Validate()
}

// Mute stops pushes and their sound for a thread v may see; the thread
// stays in v's inbox with its unread count, and the badge counts it unless
// v's preferences exclude muted threads. Muting a muted thread is a no-op.
// v's other devices are told (EventPreferences).
func (s *App) Mute(ctx context.Context, v Viewer, thread ThreadID) (err error) {
	ctx, span := s.tel.start(ctx, "conversations.Mute", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	return s.setMuted(ctx, v, thread, true)
}

// Unmute undoes Mute. Unmuting a thread that is not muted is a no-op; v
// may unmute a thread of the business they no longer see (a mute left
// behind by an unassignment), but a thread the business does not have is
// ErrNotFound.
func (s *App) Unmute(ctx context.Context, v Viewer, thread ThreadID) (err error) {
	ctx, span := s.tel.start(ctx, "conversations.Unmute", trace.SpanKindInternal)
	defer func() { end(span, err) }()
	return s.setMuted(ctx, v, thread, false)
}

func (s *core) setMuted(ctx context.Context, v Viewer, thread ThreadID, muted bool) error {
	if err := threadRef(v, thread); err != nil {
		return err
	}
	ps, err := s.preferenceStore()
	if err != nil {
		return err
	}
	if muted {
		_, err = s.visibleThread(ctx, s.store, v, thread)
	} else {
		_, err = s.store.GetThread(ctx, v.Tenant, thread)
	}
	if err != nil {
		return err
	}
	if err := ps.SetMuted(ctx, v.Tenant, v.Staff, thread, muted, s.now()); err != nil {
		return err
	}
	s.notifyPreferences(ctx, v, thread)
	return nil
}

// notifyPreferences tells v's devices that v's preferences or the mute of
// thread changed, with v's badge (which a mute may change).
func (s *core) notifyPreferences(ctx context.Context, v Viewer, thread ThreadID) {
	if s.notifier == nil {
		return
	}
	s.send(ctx, []Staff{{Tenant: v.Tenant, ID: v.Staff, Role: v.Role}},
		[]Notification{{Tenant: v.Tenant, Recipient: v.Staff, Type: EventPreferences, Thread: thread}}, nil)
}
