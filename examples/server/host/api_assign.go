package host

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/store"
)

// newAccountRoutes are the API's routes that change who sees what or who
// is reached where: job assignments, which a dispatcher makes from the
// app when the CRM does not own them, and a device's sign-out from push.
func newAccountRoutes(svc *conversations.Service, db *store.DB, auth Authenticator, log *slog.Logger) []Route {
	a := &api{svc: svc, db: db, auth: auth, log: log}
	return []Route{
		{"PUT /v1/jobs/{job}/assignees/{staff}", a.authed(a.assign)},
		{"DELETE /v1/jobs/{job}/assignees/{staff}", a.authed(a.unassign)},
		{"DELETE /v1/devices/{token}", a.authed(a.unregisterDevice)},
	}
}

// errAssignRole refuses an assignment by a technician: assignments decide
// visibility, which is a dispatcher's call.
var errAssignRole = fmt.Errorf("only dispatchers and admins assign staff to jobs: %w", conversations.ErrForbidden)

func (a *api) assign(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	return a.setAssigned(w, r, v, true)
}

func (a *api) unassign(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	return a.setAssigned(w, r, v, false)
}

func (a *api) setAssigned(w http.ResponseWriter, r *http.Request, v conversations.Viewer, assigned bool) error {
	if v.Role != conversations.RoleDispatcher && v.Role != conversations.RoleAdmin {
		return errAssignRole
	}
	job, staff := conversations.JobID(r.PathValue("job")), conversations.StaffID(r.PathValue("staff"))
	var err error
	if assigned {
		err = a.svc.Assign(r.Context(), v.Tenant, job, staff)
	} else {
		err = a.svc.Unassign(r.Context(), v.Tenant, job, staff)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// unregisterDevice forgets one of the viewer's own push tokens (the app
// signs out): that phone gets no more pushes for them.
func (a *api) unregisterDevice(w http.ResponseWriter, r *http.Request, v conversations.Viewer) error {
	token := r.PathValue("token")
	ctx := r.Context()
	mine, err := a.db.DeviceTokens(ctx, v.Tenant, v.Staff)
	if err != nil {
		return err
	}
	if !slices.Contains(mine, token) {
		return fmt.Errorf("no device with this token is registered to you: %w", conversations.ErrNotFound)
	}
	if err := a.db.RemoveDeviceToken(ctx, v.Tenant, token); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
