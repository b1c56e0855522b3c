package host

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/examples/server/web"
	"github.com/fieldtalk/fieldtalk/store"
)

// newWebRoutes serves the web app (package web) at "/", and the one read
// it needs that the mobile API had not: the context of a thread's jobs,
// for the thread's header.
func newWebRoutes(svc *conversations.Service, db *store.DB, auth Authenticator, log *slog.Logger) ([]Route, error) {
	app, err := web.New()
	if err != nil {
		return nil, err
	}
	var routes []Route
	for _, p := range app.Patterns() {
		routes = append(routes, Route{p, app})
	}
	a := &api{svc: svc, db: db, auth: auth, log: log}
	return append(routes, Route{"GET /v1/threads/{thread}/jobs", a.authed(a.threadJobs)}), nil
}

// jobJSON is a job's context as the thread header shows it.
type jobJSON struct {
	ID          conversations.JobID `json:"id"`
	Title       string              `json:"title"`
	Status      string              `json:"status,omitempty"`
	WindowStart time.Time           `json:"window_start,omitzero"`
	WindowEnd   time.Time           `json:"window_end,omitzero"`
	ETA         time.Time           `json:"eta,omitzero"`
	Address     string              `json:"address,omitempty"`
	Technician  string              `json:"technician,omitempty"`
	Customer    *contactJSON        `json:"customer,omitempty"`
	TimeZone    string              `json:"time_zone,omitempty"`
}

// threadJobs answers the jobs linked to a thread the viewer sees; a job
// the CRM no longer knows is left out.
func (a *api) threadJobs(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	ctx := r.Context()
	t, err := a.svc.Thread(ctx, v, conversations.ThreadID(r.PathValue("thread")))
	if err != nil {
		return err
	}
	jobs := []jobJSON{}
	for _, id := range t.Jobs {
		j, err := a.db.Job(ctx, v.Tenant, id)
		if errors.Is(err, conversations.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		out := jobJSON{
			ID: j.ID, Title: j.Title, Status: j.Status, WindowStart: j.WindowStart, WindowEnd: j.WindowEnd,
			ETA: j.ETA, Address: j.Address, Technician: j.Technician, TimeZone: j.TimeZone,
		}
		if c := j.Customer; c != (conversations.Contact{}) {
			out.Customer = &contactJSON{Phone: c.Phone, Email: c.Email, Name: c.Name, Ref: c.Ref}
		}
		jobs = append(jobs, out)
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": jobs})
	return nil
}
