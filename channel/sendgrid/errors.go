package sendgrid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sendgrid/rest"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// opSend names the one operation in errors.
const opSend = "send"

// maxRetryAfter is the longest rate-limit hint believed; a reset further
// out is a broken header, and the queue's own backoff applies.
const maxRetryAfter = 24 * time.Hour

// apiError is an answer that was not an acceptance. Its text is the HTTP
// status alone: SendGrid's own messages are in the ProviderError's Reason.
type apiError struct{ status int }

func (e *apiError) Error() string {
	return "HTTP " + strconv.Itoa(e.status) + " " + http.StatusText(e.status)
}

// classify turns a failed call into a *conversations.ProviderError. resp is
// SendGrid's answer (nil when none was read); err is the call's error when
// there was no answer. ctx is the call's context: when it has ended before
// an answer, its error joins the chain so errors.Is(err, context.Canceled)
// holds for the caller.
func (c *Channel) classify(ctx context.Context, resp *rest.Response, err error) *conversations.ProviderError {
	pe := &conversations.ProviderError{Provider: "sendgrid", Op: opSend}
	if resp != nil {
		pe.HTTPStatus, pe.Err = resp.StatusCode, &apiError{status: resp.StatusCode}
		switch st := resp.StatusCode; {
		case st == http.StatusTooManyRequests:
			pe.Class = conversations.Retryable
			pe.RetryAfter = retryAfter(http.Header(resp.Headers), c.opts.now())
		case st == http.StatusRequestTimeout:
			// The server gave up waiting for the request: it was not taken.
			pe.Class = conversations.Retryable
		case st >= 500:
			// SendGrid (or a proxy before it) failed after the request
			// arrived: it may have queued the email.
			pe.Class = conversations.MaybeSent
		default:
			// 4xx: the same request fails the same way (401 bad key, 403
			// unverified sender, 400 invalid mail, 413 too large). A 3xx
			// means the base URL is wrong; retrying does not fix that.
			pe.Class = conversations.Permanent
		}
		pe.Reason = responseReason(pe.Class, resp.StatusCode, apiMessages(resp.Body))
		return pe
	}

	pe.Err = err
	var ce *callError
	sent := errors.As(err, &ce) && ce.sent
	if sent {
		// No answer after the request left: SendGrid may have it.
		pe.Class = conversations.MaybeSent
	} else {
		pe.Class = conversations.Retryable
	}
	ctxErr := ctx.Err()
	if ctxErr != nil && !errors.Is(err, ctxErr) {
		pe.Err = errors.Join(err, ctxErr)
	}
	pe.Reason = lostReason(sent, ctxErr)
	return pe
}

func responseReason(class conversations.ErrorClass, status int, messages []string) string {
	said := strings.Join(messages, "; ")
	with := func(plain string) string {
		if said == "" {
			return plain
		}
		return plain + ": " + said
	}
	switch {
	case class == conversations.Retryable && status == http.StatusTooManyRequests:
		return "SendGrid is limiting how fast we send; the email will be retried"
	case class == conversations.Retryable:
		return "SendGrid timed out waiting for the request; the email was not sent and will be retried"
	case class == conversations.MaybeSent:
		return with(fmt.Sprintf("SendGrid had trouble (HTTP %d); the email may have been sent", status))
	case status == http.StatusUnauthorized:
		return with("SendGrid refused the API key; check the SendGrid settings")
	case status == http.StatusForbidden:
		return with("SendGrid refused to send this email (check the sender identity and the API key's permissions)")
	case status == http.StatusRequestEntityTooLarge:
		return with("the email is too large for SendGrid")
	case status >= 300 && status < 400:
		return fmt.Sprintf("SendGrid answered with a redirect (HTTP %d); check the API base URL", status)
	}
	return with(fmt.Sprintf("SendGrid refused the email (HTTP %d)", status))
}

func lostReason(sent bool, ctxErr error) string {
	switch {
	case sent && errors.Is(ctxErr, context.DeadlineExceeded):
		return "SendGrid did not answer in time; the email may have been sent"
	case sent && errors.Is(ctxErr, context.Canceled):
		return "the send was cancelled while SendGrid had it; the email may have been sent"
	case sent:
		return "SendGrid's answer was lost; the email may have been sent"
	case ctxErr != nil:
		return "the request was cancelled before it reached SendGrid; the email was not sent"
	}
	return "SendGrid could not be reached; the email was not sent"
}

// maxReasonBytes bounds what of SendGrid's messages a Reason carries.
const maxReasonBytes = 500

// apiMessages reads the messages of SendGrid's error body:
//
//	{"errors":[{"message":"...","field":"...","help":"..."}]}
//
// A body that is not that (an HTML page from a proxy) gives none.
func apiMessages(body string) []string {
	var parsed struct {
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal([]byte(body), &parsed) != nil {
		return nil
	}
	var out []string
	n := 0
	for _, e := range parsed.Errors {
		m := clean(e.Message, maxReasonBytes)
		if m == "" || n+len(m) > maxReasonBytes {
			continue
		}
		n += len(m)
		out = append(out, m)
	}
	return out
}

// retryAfter reads SendGrid's rate-limit hint. Retry-After (seconds or an
// HTTP date) wins when present; otherwise X-RateLimit-Reset, the epoch
// second the limit resets, is measured against the answer's Date (so our
// clock's skew does not matter), or against now when there is no Date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return bounded(time.Duration(n) * time.Second)
		}
		if t, err := http.ParseTime(v); err == nil {
			return bounded(t.Sub(now))
		}
	}
	v := strings.TrimSpace(h.Get("X-RateLimit-Reset"))
	if v == "" {
		return 0
	}
	reset, err := strconv.ParseInt(v, 10, 64)
	if err != nil || reset <= 0 || reset > 1<<40 {
		return 0
	}
	ref := now
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		ref = d
	}
	return bounded(time.Unix(reset, 0).Sub(ref))
}

func bounded(d time.Duration) time.Duration {
	if d <= 0 || d > maxRetryAfter {
		return 0
	}
	return d
}
