package pushtest

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Fault is a way for a request to fail; see FCM.Fail and Gateway.Fail.
type Fault struct {
	status     int
	retryAfter string
	body       string
	hang       bool
}

// RateLimit answers 429 (FCM's QUOTA_EXCEEDED) with Retry-After in whole
// seconds (none when zero).
func RateLimit(retryAfter time.Duration) Fault {
	return Fault{status: http.StatusTooManyRequests, retryAfter: seconds(retryAfter), body: fcmErrorBody(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "")}
}

// Unavailable answers 503 (FCM's UNAVAILABLE) with Retry-After in whole
// seconds (none when zero).
func Unavailable(retryAfter time.Duration) Fault {
	return Fault{status: http.StatusServiceUnavailable, retryAfter: seconds(retryAfter), body: fcmErrorBody(503, "UNAVAILABLE", "UNAVAILABLE", "")}
}

// Internal answers 500 (FCM's INTERNAL).
func Internal() Fault {
	return Fault{status: http.StatusInternalServerError, body: fcmErrorBody(500, "INTERNAL", "INTERNAL", "")}
}

// BadMessage answers 400 INVALID_ARGUMENT blaming the message, not the
// token (a payload too large, say): permanent, and no reason to forget the
// token.
func BadMessage() Fault {
	return Fault{status: http.StatusBadRequest, body: fcmErrorBody(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "")}
}

// Hang never answers; the request ends when the client gives up or the
// server closes.
func Hang() Fault { return Fault{hang: true} }

func seconds(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

// fcmErrorBody is FCM's error body; field, when set, is the field a
// google.rpc.BadRequest detail blames.
func fcmErrorBody(code int, status, errorCode, field string) string {
	body := `{"error":{"code":` + strconv.Itoa(code) + `,"message":"fake error","status":"` + status + `","details":[` +
		`{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"` + errorCode + `"}`
	if field != "" {
		body += `,{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"` + field + `","description":"Invalid registration token"}]}`
	}
	return body + `]}}`
}

// faults holds the faults queued for a fake, and the hung requests to
// release when it closes.
type faults struct {
	mu       sync.Mutex
	queue    []Fault
	always   *Fault
	released chan struct{}
}

func newFaults() *faults { return &faults{released: make(chan struct{})} }

func (f *faults) add(n int, x Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.queue = append(f.queue, x)
	}
}

func (f *faults) setAlways(x *Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.always = x
}

func (f *faults) next() (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queue) > 0 {
		x := f.queue[0]
		f.queue = f.queue[1:]
		return x, true
	}
	if f.always != nil {
		return *f.always, true
	}
	return Fault{}, false
}

// serve answers r with x.
func (f *faults) serve(ctx context.Context, w http.ResponseWriter, x Fault) {
	if x.hang {
		select {
		case <-ctx.Done():
		case <-f.released:
		}
		return
	}
	if x.retryAfter != "" {
		w.Header().Set("Retry-After", x.retryAfter)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(x.status)
	_, _ = w.Write([]byte(x.body))
}

// inbox is what a fake received, per key, with waiting readers.
type inbox[T any] struct {
	mu      sync.Mutex
	all     []T
	byKey   map[string][]T
	read    map[string]int
	changed chan struct{}
}

func newInbox[T any]() *inbox[T] {
	return &inbox[T]{byKey: map[string][]T{}, read: map[string]int{}, changed: make(chan struct{})}
}

func (in *inbox[T]) add(key string, x T) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.all = append(in.all, x)
	in.byKey[key] = append(in.byKey[key], x)
	close(in.changed)
	in.changed = make(chan struct{})
}

func (in *inbox[T]) list() []T {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]T(nil), in.all...)
}

// next returns key's next item not returned before, waiting for it.
func (in *inbox[T]) next(ctx context.Context, key string) (T, error) {
	for {
		in.mu.Lock()
		if i := in.read[key]; i < len(in.byKey[key]) {
			in.read[key] = i + 1
			x := in.byKey[key][i]
			in.mu.Unlock()
			return x, nil
		}
		ch := in.changed
		in.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
	}
}
