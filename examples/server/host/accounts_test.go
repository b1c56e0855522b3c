package host_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/fieldtalk/fieldtalk/examples/server/host"
)

// TestAssignFromTheApp: a dispatcher assigns and unassigns from the app,
// and visibility follows at once; a technician may not.
func TestAssignFromTheApp(t *testing.T) {
	databases(t, func(t *testing.T, db database) {
		r := start(t, host.Config{Database: db.dsn, Citus: db.citus})
		dana, tom, tara := r.demo.Token("dana"), r.demo.Token("tom"), r.demo.Token("tara")
		job := string(r.demo.Job)
		if n := len(r.inbox(t, tara)); n != 0 {
			t.Fatalf("Tara sees %d threads before any assignment", n)
		}
		r.expectError(t, "PUT", "/v1/jobs/"+job+"/assignees/tara", tom, nil, http.StatusForbidden, "forbidden")
		r.expectError(t, "PUT", "/v1/jobs/"+job+"/assignees/nobody", dana, nil, http.StatusBadRequest, "invalid")
		r.call(t, "PUT", "/v1/jobs/"+job+"/assignees/tara", dana, nil, http.StatusNoContent)
		if th := r.inbox(t, tara); len(th) != 1 {
			t.Fatalf("after the assignment Tara sees %+v, want the job's thread", th)
		}
		r.call(t, "DELETE", "/v1/jobs/"+job+"/assignees/tara", dana, nil, http.StatusNoContent)
		if n := len(r.inbox(t, tara)); n != 0 {
			t.Fatalf("after the unassignment Tara still sees %d threads", n)
		}
		r.expectError(t, "DELETE", "/v1/jobs/"+job+"/assignees/tom", tara, nil, http.StatusForbidden, "forbidden")
	})
}

// TestDeviceSignOut: a phone signs out of push; another person's token is
// not the caller's to remove.
func TestDeviceSignOut(t *testing.T) {
	databases(t, func(t *testing.T, db database) {
		r := start(t, host.Config{Database: db.dsn, Citus: db.citus})
		tom, tara := r.demo.Token("tom"), r.demo.Token("tara")
		ctx := context.Background()
		r.call(t, "POST", "/v1/devices", tom, map[string]string{"token": "toms-phone", "platform": "ios"}, http.StatusNoContent)
		r.expectError(t, "DELETE", "/v1/devices/toms-phone", tara, nil, http.StatusNotFound, "not_found")
		if got, err := r.db.DeviceTokens(ctx, r.demo.Tenant, "tom"); err != nil || len(got) != 1 {
			t.Fatalf("Tom's devices after Tara's attempt = %v, %v", got, err)
		}
		r.call(t, "DELETE", "/v1/devices/toms-phone", tom, nil, http.StatusNoContent)
		if got, err := r.db.DeviceTokens(ctx, r.demo.Tenant, "tom"); err != nil || len(got) != 0 {
			t.Fatalf("Tom's devices after signing out = %v, %v", got, err)
		}
		r.expectError(t, "DELETE", "/v1/devices/toms-phone", tom, nil, http.StatusNotFound, "not_found")
	})
}
