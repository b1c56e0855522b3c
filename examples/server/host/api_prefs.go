package host

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/store"
)

// newPreferenceRoutes are the API's routes for a person's notification
// preferences and mutes, which the library stores so that every device of
// theirs follows them (each change reaches the other devices as a
// `preferences` stream event).
func newPreferenceRoutes(svc *conversations.Service, db *store.DB, auth Authenticator, log *slog.Logger) []Route {
	a := &api{svc: svc, db: db, auth: auth, log: log}
	return []Route{
		{"GET /v1/preferences", a.authed(a.preferences)},
		{"PUT /v1/preferences", a.authed(a.setPreferences)},
		{"PUT /v1/threads/{thread}/mute", a.authed(a.mute)},
		{"DELETE /v1/threads/{thread}/mute", a.authed(a.unmute)},
	}
}

// preferencesJSON is the API's form of conversations.Preferences.
type preferencesJSON struct {
	Push                  string          `json:"push"`    // "", all, watched, urgent
	Preview               string          `json:"preview"` // "", full, hidden
	QuietHours            *quietHoursJSON `json:"quiet_hours,omitempty"`
	ExcludeMutedFromBadge bool            `json:"exclude_muted_from_badge"`
	Muted                 []string        `json:"muted,omitempty"` // read-only: the muted threads
	UpdatedAt             time.Time       `json:"updated_at,omitzero"`
}

type quietHoursJSON struct {
	Start    string `json:"start"`
	End      string `json:"end"`
	TimeZone string `json:"time_zone"`
}

func toPreferences(p conversations.Preferences) preferencesJSON {
	out := preferencesJSON{
		Push: string(p.Push), Preview: string(p.Preview), ExcludeMutedFromBadge: p.ExcludeMutedFromBadge,
		Muted: mapSlice(p.Muted, func(id conversations.ThreadID) string { return string(id) }), UpdatedAt: p.UpdatedAt,
	}
	if p.Quiet != (conversations.QuietHours{}) {
		out.QuietHours = &quietHoursJSON{Start: p.Quiet.Start, End: p.Quiet.End, TimeZone: p.Quiet.TimeZone}
	}
	return out
}

func (a *api) preferences(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	p, err := a.svc.Preferences(r.Context(), v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPreferences(p))
	return nil
}

// setPreferences replaces the viewer's preferences with the body's (a field
// left out takes its default); mutes are changed by the mute routes only.
func (a *api) setPreferences(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	var in struct {
		Push                  string          `json:"push"`
		Preview               string          `json:"preview"`
		QuietHours            *quietHoursJSON `json:"quiet_hours"`
		ExcludeMutedFromBadge bool            `json:"exclude_muted_from_badge"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p := conversations.Preferences{
		Push: conversations.PushMode(in.Push), Preview: conversations.PreviewMode(in.Preview),
		ExcludeMutedFromBadge: in.ExcludeMutedFromBadge,
	}
	if q := in.QuietHours; q != nil {
		p.Quiet = conversations.QuietHours{Start: q.Start, End: q.End, TimeZone: q.TimeZone}
	}
	out, err := a.svc.SetPreferences(r.Context(), v, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPreferences(out))
	return nil
}

func (a *api) mute(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	return a.setMuted(w, r, v, true)
}

func (a *api) unmute(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	return a.setMuted(w, r, v, false)
}

// setMuted mutes or unmutes the path's thread and answers with the
// viewer's badge, which a mute changes when muted threads are left out of it.
func (a *api) setMuted(w http.ResponseWriter, r *http.Request, v conversations.Viewer, muted bool) error {
	ctx, thread := r.Context(), conversations.ThreadID(r.PathValue("thread"))
	var err error
	if muted {
		err = a.svc.Mute(ctx, v, thread)
	} else {
		err = a.svc.Unmute(ctx, v, thread)
	}
	if err != nil {
		return err
	}
	badge, err := a.svc.Badge(ctx, v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"thread": string(thread), "muted": muted, "badge": badge})
	return nil
}
