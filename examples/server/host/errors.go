package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Bounds on request bodies. An API body holds at most a message (1600
// characters of up to 4 bytes, ten 2 KiB media URLs), which fits in
// MaxBodyBytes many times over; a hook's may carry a receptionist's
// transcript of up to 64 KiB besides.
const (
	MaxBodyBytes     = 64 << 10
	MaxHookBodyBytes = 256 << 10
)

var (
	errUnauthenticated = errors.New("unauthenticated: send Authorization: Bearer <token>")
	errTooLarge        = errors.New("request body too large")
	errBadSignature    = errors.New("missing, stale or invalid signature")
)

// statuses is the one table from errors to HTTP statuses. The first entry
// the error matches (errors.Is) wins; anything else is 500.
var statuses = []struct {
	err    error
	status int
	code   string
}{
	{errUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
	{errBadSignature, http.StatusUnauthorized, "bad_signature"},
	{errTooLarge, http.StatusRequestEntityTooLarge, "too_large"},
	{conversations.ErrOptedOut, http.StatusUnprocessableEntity, "opted_out"},
	{conversations.ErrInvalid, http.StatusBadRequest, "invalid"},
	{conversations.ErrForbidden, http.StatusForbidden, "forbidden"},
	{conversations.ErrNotFound, http.StatusNotFound, "not_found"},
	{conversations.ErrConflict, http.StatusConflict, "conflict"},
	{conversations.ErrUnavailable, http.StatusServiceUnavailable, "unavailable"},
	{context.DeadlineExceeded, http.StatusGatewayTimeout, "timeout"},
}

// errorBody is the JSON every failed request gets.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"` // the input at fault, for "invalid"
}

// classify returns err's status, code and the message the client may see.
// Server-side failures are described in the log, not to the client.
func classify(err error) (int, errorDetail) {
	for _, s := range statuses {
		if errors.Is(err, s.err) {
			d := errorDetail{Code: s.code, Message: err.Error()}
			var fe *conversations.FieldError
			if errors.As(err, &fe) {
				d.Field = fe.Field
			}
			if s.status >= 500 {
				d.Message = "a service this server depends on is unavailable; retry later"
			}
			return s.status, d
		}
	}
	return http.StatusInternalServerError, errorDetail{Code: "internal", Message: "internal error"}
}

// writeError answers r with err as JSON, and logs it: server-side
// failures at error level, refusals at info.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status, d := classify(err)
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	log.LogAttrs(r.Context(), level, "request failed",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", status), slog.Any("error", err))
	writeJSON(w, status, errorBody{Error: d})
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// readBody reads r's body, at most limit bytes of it.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, fmt.Errorf("%w: over %d bytes", errTooLarge, limit)
	}
	if err != nil {
		return nil, conversations.Invalid("body", "unreadable: "+err.Error())
	}
	return b, nil
}

// decode reads r's JSON body into v: one object of known fields, within
// MaxBodyBytes. An empty body leaves v as it is.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := readBody(w, r, MaxBodyBytes)
	if err != nil || len(b) == 0 {
		return err
	}
	return unmarshal(b, v)
}

func unmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return conversations.Invalid("body", "not the expected JSON: "+err.Error())
	}
	if dec.More() {
		return conversations.Invalid("body", "more than one JSON value")
	}
	return nil
}
