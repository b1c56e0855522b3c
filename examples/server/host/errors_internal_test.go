package host

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// A client that hung up is no failure of the server's: its request is not
// answered or logged as a 500, and the log line is at debug level. A
// deadline that passed is still a 504, and a failure of the server's a 500.
func TestClientThatHungUpIsNoServerError(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		level  string
	}{
		{fmt.Errorf("store: get thread: %w", context.Canceled), statusClientClosed, "DEBUG"},
		{fmt.Errorf("store: inbox: %w", context.DeadlineExceeded), http.StatusGatewayTimeout, "ERROR"},
		{fmt.Errorf("store: inbox: disk I/O error"), http.StatusInternalServerError, "ERROR"},
	} {
		var logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		ctx, cancel := context.WithCancel(context.Background())
		if tc.status == statusClientClosed {
			cancel()
		}
		req := httptest.NewRequestWithContext(ctx, "GET", "/v1/inbox", nil)
		w := httptest.NewRecorder()
		rec := &recorder{ResponseWriter: w}
		writeError(rec, req, log, tc.err)
		cancel()
		if rec.code() != tc.status {
			t.Errorf("%v: status %d, want %d", tc.err, rec.code(), tc.status)
		}
		if !strings.Contains(logs.String(), "level="+tc.level) {
			t.Errorf("%v: logged %q, want level %s", tc.err, logs.String(), tc.level)
		}
		if tc.status == statusClientClosed && w.Body.Len() != 0 {
			t.Errorf("%v: wrote %q to a client that is gone", tc.err, w.Body.String())
		}
	}
}

// Logged errors mask the phone numbers they quote.
func TestLoggedErrorsMaskPhoneNumbers(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	err := &conversations.OptOutError{Number: "+15005550999"}
	writeError(httptest.NewRecorder(), httptest.NewRequest("POST", "/v1/messages", nil), log, err)
	if strings.Contains(logs.String(), "5550999") || !strings.Contains(logs.String(), "0999") {
		t.Fatalf("log %q: want the number masked to its last four digits", logs.String())
	}
}
