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
	"reflect"
	"strconv"
	"strings"

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
	errNoRoute         = errors.New("no such route")
	errMethod          = errors.New("method not allowed")
)

// statusClientClosed is the status logged for a request whose client hung
// up before the answer (nginx's 499): nobody reads it, and it is no failure
// of the server's.
const statusClientClosed = 499

// statuses is the one table from errors to HTTP statuses and the sentence a
// client reads when the error carries none of its own
// (conversations.Explain). The first entry the error matches (errors.Is)
// wins; anything else is 500.
var statuses = []struct {
	err     error
	status  int
	code    string
	message string
}{
	{context.Canceled, statusClientClosed, "canceled", "the request was canceled"},
	{errUnauthenticated, http.StatusUnauthorized, "unauthenticated", "send a valid token as Authorization: Bearer <token>"},
	{errBadSignature, http.StatusUnauthorized, "bad_signature", "the request's signature is missing, stale or does not verify"},
	{errTooLarge, http.StatusRequestEntityTooLarge, "too_large", "the request body is larger than this route accepts"},
	{errNoRoute, http.StatusNotFound, "not_found", "there is no such route"},
	{errMethod, http.StatusMethodNotAllowed, "method_not_allowed", "this route does not take this method: the Allow header lists the ones it takes"},
	{conversations.ErrOptedOut, http.StatusUnprocessableEntity, "opted_out", "the recipient has opted out of SMS from this business"},
	{conversations.ErrInvalid, http.StatusBadRequest, "invalid", "the request is not valid"},
	{conversations.ErrForbidden, http.StatusForbidden, "forbidden", "you may not access this"},
	{conversations.ErrNotFound, http.StatusNotFound, "not_found", "nothing with that id exists in your business"},
	{conversations.ErrConflict, http.StatusConflict, "conflict", "the request conflicts with the current state: read it again and retry"},
	{conversations.ErrUnavailable, http.StatusServiceUnavailable, "unavailable", "a service this server depends on is unavailable; retry later"},
	{context.DeadlineExceeded, http.StatusGatewayTimeout, "timeout", "the request took too long; retry later"},
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

// classify returns err's status and what the client may see: a code, a
// sentence written for the API's user, and the field at fault. The error's
// own text (package prefixes, SQL, constraint names, Go types) goes to the
// log only.
func classify(err error) (int, errorDetail) {
	var fe *conversations.FieldError
	if errors.As(err, &fe) && strings.HasPrefix(fe.Field, "config.") {
		// The server is wired without something the call needs: not the
		// client's doing.
		return http.StatusInternalServerError, errorDetail{Code: "internal", Message: "internal error"}
	}
	for _, s := range statuses {
		if !errors.Is(err, s.err) {
			continue
		}
		d := errorDetail{Code: s.code, Message: s.message}
		if s.status < 500 && s.status != statusClientClosed {
			if m := conversations.Explain(err); m != "" {
				d.Message = m
			}
			if fe != nil {
				d.Field = fe.Field
			}
		}
		return s.status, d
	}
	return http.StatusInternalServerError, errorDetail{Code: "internal", Message: "internal error"}
}

// writeError answers r with err as JSON, and logs it: server-side
// failures at error level, refusals at info, a client that hung up at
// debug. The logged error is redacted (conversations.RedactPhones): it may quote a phone number.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status, d := classify(err)
	level := slog.LevelInfo
	switch {
	case status == statusClientClosed:
		level = slog.LevelDebug
	case status >= 500:
		level = slog.LevelError
	}
	log.LogAttrs(r.Context(), level, "request failed",
		slog.String("method", r.Method), slog.String("path", conversations.RedactPhones(r.URL.Path)),
		slog.Int("status", status), conversations.ErrorAttr(err))
	if status == statusClientClosed && r.Context().Err() != nil {
		// Nobody is left to read an answer; the status is noted for the
		// request log.
		if rec, ok := w.(*recorder); ok {
			rec.status = status
		}
		return
	}
	if status == http.StatusMethodNotAllowed {
		var m *methodError
		if errors.As(err, &m) {
			w.Header().Set("Allow", m.allow)
		}
	}
	writeJSON(w, status, errorBody{Error: d})
}

// methodError is a request whose route exists for other methods.
type methodError struct{ allow string }

func (e *methodError) Error() string { return "method not allowed; allowed: " + e.allow }
func (e *methodError) Unwrap() error { return errMethod }

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
		return nil, fmt.Errorf("host: read body: %w: %w", conversations.Invalid("body", "could not be read in full"), err)
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
		return fmt.Errorf("host: decode: %w: %w", jsonError(err), err)
	}
	if dec.More() {
		return conversations.Invalid("body", "more than one JSON value")
	}
	return nil
}

// jsonError words a decoding error for the API's user: which field, and
// what it should have been, never the Go type it was decoded into.
func jsonError(err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return conversations.Invalid("body", fmt.Sprintf("not valid JSON (at byte %d)", syntax.Offset))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return conversations.Invalid(field, "must be "+jsonKind(typ.Type))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return conversations.Invalid("body", "incomplete JSON")
	}
	// encoding/json has no typed error for an unknown field; its text is
	// `json: unknown field "name"`.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if f, uerr := strconv.Unquote(name); uerr == nil {
			return conversations.Invalid(f, "not a field of this request")
		}
	}
	return conversations.Invalid("body", "not the JSON this route takes")
}

// jsonKind names what a JSON value of Go type t must look like.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprintf("a whole number from %d to %d", minInt(t), maxInt(t))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number from 0"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a different kind of value"
}

func maxInt(t reflect.Type) int64 { return int64(1)<<(t.Bits()-1) - 1 }
func minInt(t reflect.Type) int64 { return -int64(1) << (t.Bits() - 1) }
