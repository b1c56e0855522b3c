package twilio

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Operations named in errors.
const (
	opSend  = "send"
	opFetch = "fetch"
	opFind  = "find"
)

// Twilio error codes the classification singles out.
// https://www.twilio.com/docs/api/errors
const (
	codeNotFound     = 20404
	codeTooMany      = 20429
	codeUnsubscribed = 21610
	codeUnreachable  = 30003
)

// permanentCodes are failures a retry repeats: the number is invalid,
// cannot take SMS, does not exist, or the carrier filters the message.
var permanentCodes = map[int]bool{
	21211: true, 21614: true, 30005: true, 30006: true, 30007: true,
}

// reasons are what a dispatcher is told, by Twilio error code.
var reasons = map[int]string{
	20003: "Twilio rejected the account credentials; check the Twilio settings",
	20404: "Twilio has no such message",
	20429: "Twilio is limiting how fast we send; the message will be retried",
	21211: "the customer's phone number is not a valid number",
	21408: "sending to this country is not enabled for the Twilio account",
	21602: "the message is empty",
	21606: "the business number cannot send this message (not an SMS-capable Twilio number of this account)",
	21610: "the carrier reports this number opted out of texts from this business number; the customer can text START to opt back in",
	21612: "Twilio cannot route from this business number to the customer's number",
	21614: "the customer's number cannot receive text messages (it is not a mobile number)",
	21617: "the message is longer than 1600 characters",
	30003: "the customer's phone is unreachable (switched off or out of coverage)",
	30004: "the customer's number is blocked from receiving this message",
	30005: "the customer's number does not exist or is no longer in service",
	30006: "the customer's number is a landline or its carrier cannot be reached",
	30007: "the carrier filtered the message as spam",
	30008: "the carrier could not deliver the message for an unknown reason",
	30034: "the business number is not registered for A2P 10DLC messaging",
}

// reasonFor returns the plain-language reason for a Twilio error code, or "".
func reasonFor(code string) string {
	n, err := strconv.Atoi(code)
	if err != nil {
		return ""
	}
	return reasons[n]
}

// classify turns a failed API call into a *conversations.ProviderError.
// ctx is the call's context: when it has ended, its error joins the chain
// so errors.Is(err, context.Canceled) holds for the caller.
func (c *Channel) classify(ctx context.Context, op string, err error) *conversations.ProviderError {
	pe := &conversations.ProviderError{Provider: "twilio", Op: op, Err: err}
	var (
		ce     *callError
		rest   *client.TwilioRestError
		status int
		code   int
		sent   bool
	)
	if errors.As(err, &ce) {
		status, sent = ce.status, ce.sent
		pe.RetryAfter = retryAfter(ce.header, c.opts.now())
	}
	if errors.As(err, &rest) {
		code = rest.Code
		if rest.Status != 0 {
			status = rest.Status
		}
		sent = true
	}
	pe.HTTPStatus = status
	if code != 0 {
		pe.Code = strconv.Itoa(code)
	}
	switch {
	case code == codeUnsubscribed:
		pe.Class = conversations.OptedOut
	case status == http.StatusTooManyRequests || code == codeTooMany || code == codeUnreachable:
		pe.Class = conversations.Retryable
	case permanentCodes[code]:
		pe.Class = conversations.Permanent
	case status >= 400 && status < 500:
		pe.Class = conversations.Permanent
	case status != 0 || sent:
		// A 5xx (JSON or an edge's HTML page), a success we could not
		// read, or no answer at all after the request left: Twilio may
		// have the message.
		pe.Class = conversations.MaybeSent
	default:
		pe.Class = conversations.Retryable
	}
	if op != opSend && pe.Class == conversations.MaybeSent {
		// Reading again is harmless.
		pe.Class = conversations.Retryable
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		pe.Err = errors.Join(err, cerr)
	}
	pe.Reason = reason(pe.Class, code, status, ctx.Err())
	return pe
}

func reason(class conversations.ErrorClass, code, status int, ctxErr error) string {
	if r, ok := reasons[code]; ok {
		return r
	}
	switch class {
	case conversations.OptedOut:
		return reasons[codeUnsubscribed]
	case conversations.Permanent:
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			return reasons[20003]
		}
		return "Twilio refused the message"
	case conversations.MaybeSent:
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return "Twilio did not answer in time; the message may have been sent"
		}
		if errors.Is(ctxErr, context.Canceled) {
			return "the send was cancelled while Twilio had it; the message may have been sent"
		}
		return "Twilio's answer was lost; the message may have been sent"
	}
	if status == http.StatusTooManyRequests {
		return reasons[codeTooMany]
	}
	if ctxErr != nil {
		return "the request was cancelled before it reached Twilio"
	}
	if status >= 500 {
		return "Twilio is having trouble; the request will be retried"
	}
	return "Twilio could not be reached; the message was not sent"
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// notFound reports whether err is Twilio saying the resource does not exist.
func notFound(err error) bool {
	var rest *client.TwilioRestError
	if errors.As(err, &rest) {
		return rest.Code == codeNotFound || rest.Status == http.StatusNotFound
	}
	var ce *callError
	return errors.As(err, &ce) && ce.status == http.StatusNotFound
}
