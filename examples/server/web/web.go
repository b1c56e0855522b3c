package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// Paths the app is served under. The service worker sits at the root so
// that its scope is the whole app; every other file is under AssetsPrefix.
const (
	IndexPath     = "/"
	WorkerPath    = "/sw.js"
	AssetsPrefix  = "/app/"
	indexFile     = "index.html"
	workerFile    = "sw.js"
	contentPolicy = "default-src 'self'; img-src * data: blob:; connect-src 'self'; " +
		"style-src 'self'; script-src 'self'; manifest-src 'self'; worker-src 'self'; " +
		"base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

// file is one embedded file, ready to serve.
type file struct {
	body, gzipped []byte
	ctype, etag   string
}

// Handler serves the app's files from memory.
type Handler struct {
	files map[string]*file // by request path
}

// New reads the embedded files and compresses them once.
func New() (*Handler, error) {
	h := &Handler{files: map[string]*file{}}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		f := &file{body: b, ctype: contentType(name)}
		sum := sha256.Sum256(b)
		f.etag = `"` + hex.EncodeToString(sum[:8]) + `"`
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		if _, err := zw.Write(b); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		if z.Len() < len(b) {
			f.gzipped = z.Bytes()
		}
		switch name {
		case indexFile:
			h.files[IndexPath] = f
		case workerFile:
			h.files[WorkerPath] = f
		default:
			h.files[AssetsPrefix+name] = f
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if h.files[IndexPath] == nil || h.files[WorkerPath] == nil {
		return nil, fmt.Errorf("web: the embedded app has no %s or %s", indexFile, workerFile)
	}
	return h, nil
}

// Patterns are the ServeMux patterns h answers.
func (h *Handler) Patterns() []string {
	return []string{"GET " + IndexPath + "{$}", "GET " + WorkerPath, "GET " + AssetsPrefix}
}

// ServeHTTP answers one of the app's files. Files are revalidated on every
// load (ETag): the service worker keeps them for offline starts, and a
// new server version is picked up at the next online start.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := h.files[r.URL.Path]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", f.ctype)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("ETag", f.etag)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Vary", "Accept-Encoding")
	if r.URL.Path == IndexPath {
		hdr.Set("Content-Security-Policy", contentPolicy)
		hdr.Set("Referrer-Policy", "no-referrer")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && match == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if f.gzipped != nil && acceptsGzip(r) {
		hdr.Set("Content-Encoding", "gzip")
		body = f.gzipped
	}
	hdr.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// Size is what the first load of the app transfers: each file's bytes as
// sent to a client that accepts gzip.
func (h *Handler) Size() (raw, gzipped int) {
	for _, f := range h.files {
		raw += len(f.body)
		if f.gzipped != nil {
			gzipped += len(f.gzipped)
		} else {
			gzipped += len(f.body)
		}
	}
	return raw, gzipped
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".webmanifest":
		return "application/manifest+json"
	case ".svg":
		return "image/svg+xml"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}
