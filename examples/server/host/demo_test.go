package host_test

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/fieldtalk/fieldtalk/examples/server/host"
)

// TestDemoTokensStablePerDatabase: a restart on the same database accepts
// the tokens printed before it; another database has tokens of its own.
func TestDemoTokensStablePerDatabase(t *testing.T) {
	databases(t, func(t *testing.T, db database) {
		first := start(t, host.Config{Database: db.dsn, Citus: db.citus})
		tom := first.demo.Token("tom")
		first.app.RequireStop()

		again := start(t, host.Config{Database: db.dsn, Citus: db.citus})
		if again.demo.Token("tom") != tom || again.demo.Token("dana") != first.demo.Token("dana") {
			t.Fatalf("the tokens changed across a restart on one database")
		}
		again.call(t, "GET", "/v1/badge", tom, nil, http.StatusOK)

		other := start(t, host.Config{Database: "sqlite:" + filepath.Join(t.TempDir(), "other.db")})
		if other.demo.Token("tom") == tom {
			t.Fatalf("two databases share the token %q", tom)
		}
		other.expectError(t, "GET", "/v1/badge", tom, nil, http.StatusUnauthorized, "unauthenticated")
	})
}
