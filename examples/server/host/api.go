package host

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/fieldtalk/fieldtalk/channel"
	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/notify/inapp"
	"github.com/fieldtalk/fieldtalk/store"
)

// Route is one pattern the server serves (net/http's ServeMux syntax,
// "METHOD /path/{name}"). Modules contribute routes to the value group
// "routes"; their order does not matter, since the mux matches by pattern.
type Route struct {
	Pattern string
	Handler http.Handler
}

// api is the mobile app's JSON API: every route acts for the staff member
// whose bearer token it carries.
type api struct {
	svc  *conversations.Service
	db   *store.DB
	auth Authenticator
	log  *slog.Logger
}

// apiHandler is a route's logic: it answers w itself, or returns an error
// for the status table.
type apiHandler func(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error

// newAPIRoutes returns the API's routes, the event stream among them.
func newAPIRoutes(svc *conversations.Service, db *store.DB, auth Authenticator, hub *inapp.Hub, log *slog.Logger) []Route {
	a := &api{svc: svc, db: db, auth: auth, log: log}
	routes := []Route{{"GET /v1/stream", a.stream(hub)}}
	for pattern, h := range map[string]apiHandler{
		"GET /v1/inbox":                             a.inbox,
		"GET /v1/badge":                             a.badge,
		"POST /v1/threads":                          a.startInternal,
		"GET /v1/threads/{thread}":                  a.thread,
		"GET /v1/threads/{thread}/messages":         a.history,
		"POST /v1/threads/{thread}/messages":        a.send,
		"POST /v1/threads/{thread}/read":            a.markRead,
		"GET /v1/threads/{thread}/suggestions":      a.suggestions,
		"POST /v1/messages":                         a.sendTo,
		"POST /v1/jobs/{job}/thread":                a.jobThread,
		"POST /v1/suggestions/{suggestion}/use":     a.useSuggestion,
		"POST /v1/suggestions/{suggestion}/dismiss": a.dismissSuggestion,
		"GET /v1/drafts":                            a.drafts,
		"POST /v1/drafts":                           a.createDraft,
		"GET /v1/drafts/{draft}":                    a.draft,
		"PUT /v1/drafts/{draft}":                    a.updateDraft,
		"DELETE /v1/drafts/{draft}":                 a.deleteDraft,
		"POST /v1/devices":                          a.registerDevice,
		"POST /v1/segments":                         a.segments,
	} {
		routes = append(routes, Route{pattern, a.authed(h)})
	}
	return routes
}

// authed authenticates the request and runs h for its viewer.
func (a *api) authed(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := viewerOf(a.auth, r)
		if err == nil {
			err = h(w, r, v)
		}
		if err != nil {
			writeError(w, r, a.log, err)
		}
	})
}

// stream checks the bearer token before the hub does, so a refused
// stream answers in the same JSON shape as every other route.
func (a *api) stream(hub http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := viewerOf(a.auth, r); err != nil {
			writeError(w, r, a.log, err)
			return
		}
		hub.ServeHTTP(w, r)
	})
}

func (a *api) inbox(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	q := r.URL.Query()
	limit, err := intParam(q.Get("limit"), "limit")
	if err != nil {
		return err
	}
	page, err := a.svc.Inbox(r.Context(), v, conversations.InboxQuery{
		Filter: conversations.InboxFilter(q.Get("filter")), Limit: int(limit), After: q.Get("after"),
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"threads": mapSlice(page.Threads, toThread), "next_cursor": page.NextCursor})
	return nil
}

func (a *api) badge(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	n, err := a.svc.Badge(r.Context(), v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int64{"badge": n})
	return nil
}

func (a *api) thread(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	t, err := a.svc.Thread(r.Context(), v, conversations.ThreadID(r.PathValue("thread")))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toThread(t))
	return nil
}

func (a *api) history(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	q := r.URL.Query()
	limit, err := intParam(q.Get("limit"), "limit")
	if err != nil {
		return err
	}
	before, err := intParam(q.Get("before"), "before")
	if err != nil {
		return err
	}
	page, err := a.svc.History(r.Context(), v, conversations.ThreadID(r.PathValue("thread")),
		conversations.HistoryQuery{Limit: int(limit), Before: before})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": mapSlice(page.Messages, toMessage), "next_before": page.NextBefore})
	return nil
}

// sendRequest is a message from the app. ClientID is required: the app
// retries a send whose answer it did not get, and the client id makes the
// retry return the first message instead of sending a second.
type sendRequest struct {
	To       string                `json:"to,omitempty"` // POST /v1/messages only
	Body     string                `json:"body"`
	Media    []conversations.Media `json:"media,omitempty"`
	ClientID string                `json:"client_id"`
	Job      conversations.JobID   `json:"job,omitempty"`
	Draft    conversations.DraftID `json:"draft,omitempty"` // the draft this sends, deleted with the send
	Source   conversations.Source  `json:"source,omitempty"`
}

func (in sendRequest) check() error {
	if in.ClientID == "" {
		return conversations.Invalid("client_id", "required: it makes a retried send one message")
	}
	switch in.Source {
	case "", conversations.SourceMobile, conversations.SourceDesktop, conversations.SourceAPI:
		return nil
	}
	// The other sources (workflow, receptionist, provider) are the hooks' and webhooks' to claim.
	return conversations.Invalid("source", "mobile, desktop or api")
}

// send posts into a thread: by SMS to the customer of a customer thread,
// in the app to the staff of an internal one.
func (a *api) send(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	var in sendRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	if in.To != "" {
		return conversations.Invalid("to", "a message to a thread goes to its customer; POST /v1/messages texts a number")
	}
	ctx := r.Context()
	id := conversations.ThreadID(r.PathValue("thread"))
	t, err := a.svc.Thread(ctx, v, id)
	if err != nil {
		return err
	}
	if t.Kind == conversations.ThreadInternal {
		m, err := a.svc.SendInternal(ctx, v, conversations.SendInternal{
			Thread: id, Body: in.Body, Media: in.Media, Job: in.Job, ClientID: in.ClientID, Source: in.Source,
		})
		if err != nil {
			return err
		}
		if in.Draft != "" {
			// SendSMS deletes its draft in the send's transaction; an
			// internal send has no such field, so the draft goes here.
			if err := a.svc.DeleteDraft(ctx, v, in.Draft); err != nil && !errors.Is(err, conversations.ErrNotFound) {
				return err
			}
		}
		writeJSON(w, http.StatusCreated, toMessage(m))
		return nil
	}
	m, err := a.svc.SendSMS(ctx, v, conversations.SendSMS{
		Thread: id, Body: in.Body, Media: in.Media, Job: in.Job, ClientID: in.ClientID, Draft: in.Draft, Source: in.Source,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, toMessage(m))
	return nil
}

// sendTo texts a customer number, in the thread with them (started if new).
func (a *api) sendTo(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	var in sendRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	if in.To == "" {
		return conversations.Invalid("to", "required: the customer's phone number")
	}
	to, err := parsePhone("to", in.To)
	if err != nil {
		return err
	}
	m, err := a.svc.SendSMS(r.Context(), v, conversations.SendSMS{
		To: to, Body: in.Body, Media: in.Media, Job: in.Job, ClientID: in.ClientID, Draft: in.Draft, Source: in.Source,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, toMessage(m))
	return nil
}

func (a *api) markRead(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	var in struct {
		Seq int64 `json:"seq"` // 0: up to the newest message
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	ctx := r.Context()
	horizon, err := a.svc.MarkRead(ctx, v, conversations.ThreadID(r.PathValue("thread")), in.Seq)
	if err != nil {
		return err
	}
	badge, err := a.svc.Badge(ctx, v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int64{"read_seq": horizon, "badge": badge})
	return nil
}

func (a *api) suggestions(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	ss, err := a.svc.Suggestions(r.Context(), v, conversations.ThreadID(r.PathValue("thread")))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"suggestions": mapSlice(ss, toSuggestion)})
	return nil
}

func (a *api) useSuggestion(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	var in struct {
		Body     string `json:"body,omitempty"` // "" sends it as offered; other text is the viewer's edit
		ClientID string `json:"client_id"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	m, err := a.svc.UseSuggestion(r.Context(), v, conversations.SuggestionID(r.PathValue("suggestion")),
		conversations.UseSuggestion{Body: in.Body, ClientID: in.ClientID})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, toMessage(m))
	return nil
}

func (a *api) dismissSuggestion(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	if err := a.svc.DismissSuggestion(r.Context(), v, conversations.SuggestionID(r.PathValue("suggestion"))); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) startInternal(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	var in struct {
		Participants []conversations.StaffID `json:"participants"`
		Subject      string                  `json:"subject,omitempty"`
		Job          conversations.JobID     `json:"job,omitempty"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	t, err := a.svc.StartInternal(r.Context(), v, conversations.StartInternal{Participants: in.Participants, Subject: in.Subject, Job: in.Job})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toThread(t))
	return nil
}

func (a *api) jobThread(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	t, err := a.svc.JobThread(r.Context(), v, conversations.JobID(r.PathValue("job")))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toThread(t))
	return nil
}

// draftRequest is a draft as the app saves it. Version is required on
// update: it is the version the device last read, so two devices editing
// one draft get a conflict instead of overwriting each other.
type draftRequest struct {
	Thread   conversations.ThreadID `json:"thread,omitempty"`
	To       string                 `json:"to,omitempty"`
	Job      conversations.JobID    `json:"job,omitempty"`
	Body     string                 `json:"body"`
	Media    []conversations.Media  `json:"media,omitempty"`
	ClientID string                 `json:"client_id,omitempty"`
	Version  int64                  `json:"version,omitempty"`
}

func (in draftRequest) draft() conversations.Draft {
	return conversations.Draft{Thread: in.Thread, To: in.To, Job: in.Job, Body: in.Body, Media: in.Media, ClientID: in.ClientID, Version: in.Version}
}

func (a *api) drafts(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	ds, err := a.svc.Drafts(r.Context(), v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"drafts": mapSlice(ds, toDraft)})
	return nil
}

func (a *api) draft(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	d, err := a.svc.Draft(r.Context(), v, conversations.DraftID(r.PathValue("draft")))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toDraft(d))
	return nil
}

func (a *api) createDraft(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	var in draftRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Version != 0 {
		return conversations.Invalid("version", "a new draft has none; PUT /v1/drafts/{id} updates one")
	}
	d, err := a.svc.SaveDraft(r.Context(), v, in.draft())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toDraft(d))
	return nil
}

func (a *api) updateDraft(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	var in draftRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Version < 1 {
		return conversations.Invalid("version", "required: the version this device last read")
	}
	d := in.draft()
	d.ID = conversations.DraftID(r.PathValue("draft"))
	d, err := a.svc.SaveDraft(r.Context(), v, d)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toDraft(d))
	return nil
}

func (a *api) deleteDraft(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	if err := a.svc.DeleteDraft(r.Context(), v, conversations.DraftID(r.PathValue("draft"))); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// registerDevice records the push token of the app install making the
// call, for phone push.
func (a *api) registerDevice(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	var in struct {
		Token    string `json:"token"`
		Platform string `json:"platform,omitempty"` // "ios", "android", "web"
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := a.db.RegisterDevice(r.Context(), store.Device{Tenant: v.Tenant, Staff: v.Staff, Token: in.Token, Platform: in.Platform}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// segments is the cost preview the app shows while a text is typed: how
// many SMS parts the body takes, and in which encoding.
func (a *api) segments(w http.ResponseWriter, r *http.Request, _ conversations.Viewer) error {
	var in struct {
		Body string `json:"body"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	seg, err := channel.CountSegments(in.Body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"encoding": seg.Encoding, "segments": seg.Count, "characters": seg.Characters})
	return nil
}

// parsePhone reads a phone number the client typed, as field.
func parsePhone(field, raw string) (string, error) {
	n, err := channel.ParsePhone(raw, channel.DefaultRegion)
	var pe *channel.PhoneError
	if errors.As(err, &pe) {
		return "", fmt.Errorf("host: %w: %w", conversations.Invalid(field, pe.Reason), err)
	}
	return n, err
}

// intParam reads an optional integer query parameter.
func intParam(s, name string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, conversations.Invalid(name, "not an integer")
	}
	return n, nil
}
