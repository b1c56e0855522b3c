package host

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/notify/inapp"
	"github.com/fieldtalk/fieldtalk/store"
)

// Server is the HTTP server: every route of the group "routes", health
// and readiness, request logs, and a graceful stop.
type Server struct {
	http     *http.Server
	log      *slog.Logger
	patterns []string
	url      atomic.Pointer[string]
	stopping atomic.Bool
}

// newServer builds the server; it listens when the app starts and stops
// first when the app stops: it stops accepting requests, ends the event
// streams (clients reconnect elsewhere) and waits for in-flight requests,
// before the delivery queue and the database are stopped.
func newServer(lc fx.Lifecycle, cfg Config, routes []Route, hub *inapp.Hub, db *store.DB, log *slog.Logger, tp trace.TracerProvider, mp metric.MeterProvider) (*Server, error) {
	s := &Server{log: log}
	mux := http.NewServeMux()
	slices.SortFunc(routes, func(a, b Route) int { return strings.Compare(a.Pattern, b.Pattern) })
	routes = append(routes,
		Route{"GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		})},
		Route{"GET /readyz", s.ready(db)},
	)
	for _, rt := range routes {
		if slices.Contains(s.patterns, rt.Pattern) {
			return nil, fmt.Errorf("server: two handlers for %q", rt.Pattern)
		}
		mux.Handle(rt.Pattern, rt.Handler)
		s.patterns = append(s.patterns, rt.Pattern)
	}
	s.http = &http.Server{
		Addr:              cfg.Addr,
		Handler:           s.middleware(instrumented(s.routed(mux), tp, mp)),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// The event stream lifts this for itself (inapp.WithWriteTimeout);
		// every other answer is written well within it.
		WriteTimeout: 30 * time.Second,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	s.http.RegisterOnShutdown(func() { _ = hub.Close() })
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Addr)
			if err != nil {
				return fmt.Errorf("server: listen: %w", err)
			}
			u := "http://" + ln.Addr().String()
			s.url.Store(&u)
			go func() {
				if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("server stopped", slog.Any("error", err))
				}
			}()
			log.Info("listening", slog.String("url", u), slog.String("public_url", cfg.PublicURL), slog.Int("routes", len(s.patterns)))
			return nil
		},
		OnStop: func(ctx context.Context) error {
			s.stopping.Store(true)
			log.Info("stopping: no new requests; waiting for those in flight")
			return s.http.Shutdown(ctx)
		},
	})
	return s, nil
}

// URL is where the server listens, once started ("http://127.0.0.1:8080").
func (s *Server) URL() string {
	if u := s.url.Load(); u != nil {
		return *u
	}
	return ""
}

// Patterns returns the patterns the server routes, sorted.
func (s *Server) Patterns() []string { return slices.Sorted(slices.Values(s.patterns)) }

// Serves reports whether the server has a route for pattern.
func (s *Server) Serves(pattern string) bool { return slices.Contains(s.patterns, pattern) }

// ready answers 200 while the database answers and the server is not
// stopping, so a load balancer moves traffic away first.
func (s *Server) ready(db *store.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.stopping.Load() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "stopping"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := db.SQL().PingContext(ctx); err != nil {
			s.log.WarnContext(ctx, "not ready: database", slog.Any("error", err))
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

// routed serves r through mux, and answers a path no route has, or a
// method its route does not take, in the API's JSON error shape (404; 405
// with Allow) instead of the mux's plain text.
func (s *Server) routed(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// No pattern: h is the mux's own answer (not found, method not
		// allowed, or a redirect to the clean path). Run it aside to learn
		// which.
		c := &captured{header: http.Header{}}
		h.ServeHTTP(c, r)
		switch c.status {
		case http.StatusNotFound:
			writeError(w, r, s.log, fmt.Errorf("server: %s %s: %w", r.Method, r.URL.Path, errNoRoute))
		case http.StatusMethodNotAllowed:
			writeError(w, r, s.log, fmt.Errorf("server: %s %s: %w", r.Method, r.URL.Path, &methodError{allow: c.header.Get("Allow")}))
		default:
			for k, v := range c.header {
				w.Header()[k] = v
			}
			w.WriteHeader(c.status)
			_, _ = w.Write(c.body)
		}
	})
}

// captured is an answer written aside.
type captured struct {
	header http.Header
	status int
	body   []byte
}

func (c *captured) Header() http.Header { return c.header }
func (c *captured) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
func (c *captured) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	c.body = append(c.body, b...)
	return len(b), nil
}

// middleware gives each request an id, logs it when it ends, and turns a
// panic into a 500.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		rec := &recorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(r.Context(), "handler panicked", slog.String("request_id", id), slog.Any("panic", p))
				if rec.status == 0 {
					writeJSON(rec, http.StatusInternalServerError, errorBody{Error: errorDetail{Code: "internal", Message: "internal error"}})
				}
			}
			level := slog.LevelInfo
			switch {
			case r.URL.Path == "/healthz" || r.URL.Path == "/readyz":
				level = slog.LevelDebug
			case rec.status >= 500:
				level = slog.LevelError
			}
			s.log.LogAttrs(r.Context(), level, "request",
				slog.String("request_id", id), slog.String("method", r.Method), slog.String("route", r.Pattern),
				slog.String("path", conversations.RedactPhones(r.URL.Path)), slog.Int("status", rec.code()), slog.Int64("bytes", rec.bytes),
				slog.Duration("duration", time.Since(start)))
		}()
		next.ServeHTTP(rec, r)
	})
}

// recorder notes the status and size of an answer. Unwrap lets
// http.ResponseController reach the connection (the event stream flushes
// and sets its own write deadlines).
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}
