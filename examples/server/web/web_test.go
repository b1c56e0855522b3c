package web_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fieldtalk/fieldtalk/examples/server/web"
)

// TestHandler: every file the service worker keeps is served, gzipped to a
// client that accepts it and revalidated by ETag; nothing else is.
func TestHandler(t *testing.T) {
	h, err := web.New()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, p := range h.Patterns() {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string, hdr map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		// The transport would ask for gzip and unpack it itself; the test asks by hand.
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	for _, tc := range []struct{ path, ctype, contains string }{
		{"/", "text/html", `<script type="module" src="/app/app.js">`},
		{"/sw.js", "text/javascript", "caches.open"},
		{"/app/app.js", "text/javascript", "import"},
		{"/app/api.js", "text/javascript", "Authorization"},
		{"/app/stream.js", "text/javascript", "Last-Event-ID"},
		{"/app/db.js", "text/javascript", "indexedDB"},
		{"/app/app.css", "text/css", ":root"},
		{"/app/manifest.webmanifest", "application/manifest+json", `"start_url"`},
		{"/app/icon.svg", "image/svg+xml", "<svg"},
	} {
		plain := get(tc.path, nil)
		body, _ := io.ReadAll(plain.Body)
		if plain.StatusCode != http.StatusOK || !strings.HasPrefix(plain.Header.Get("Content-Type"), tc.ctype) || !strings.Contains(string(body), tc.contains) {
			t.Errorf("GET %s: %d %s, want 200 %s with %q", tc.path, plain.StatusCode, plain.Header.Get("Content-Type"), tc.ctype, tc.contains)
			continue
		}
		zipped := get(tc.path, map[string]string{"Accept-Encoding": "br, gzip"})
		if zipped.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(zipped.Body)
			if err != nil {
				t.Fatalf("GET %s: %v", tc.path, err)
			}
			if unzipped, _ := io.ReadAll(zr); string(unzipped) != string(body) {
				t.Errorf("GET %s: the gzipped answer is not the file", tc.path)
			}
		} else if len(body) > 1024 {
			t.Errorf("GET %s: %d bytes sent uncompressed to a client that accepts gzip", tc.path, len(body))
		}
		etag := plain.Header.Get("ETag")
		if again := get(tc.path, map[string]string{"If-None-Match": etag}); etag == "" || again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag %q answered %d, want 304", tc.path, etag, again.StatusCode)
		}
	}
	if csp := get("/", nil).Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("the page's Content-Security-Policy is %q", csp)
	}
	for _, path := range []string{"/app/", "/app/nothing.js", "/index.html", "/app/sw.js"} {
		if code := get(path, nil).StatusCode; code != http.StatusNotFound {
			t.Errorf("GET %s answered %d, want 404", path, code)
		}
	}
	raw, zipped := h.Size()
	t.Logf("the app: %d bytes, %d gzipped", raw, zipped)
	if zipped > 150<<10 {
		t.Errorf("the app's files weigh %d bytes gzipped, over the first load's budget", zipped)
	}
}
