package host

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// The receptionist and workflow hooks are called by services the host
// trusts (an AI receptionist, the host's own workflow engine), which
// authenticate with a shared secret: each request carries
//
//	X-Fieldtalk-Timestamp: 1764230400                  (Unix seconds)
//	X-Fieldtalk-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// A request whose signature does not verify, or whose timestamp is more
// than HookMaxSkew away from the server's clock (a replay), is refused with
// 401 before its body is parsed. Within the window a replay is harmless:
// both hooks are idempotent on their "key".
const (
	HookTimestampHeader = "X-Fieldtalk-Timestamp"
	HookSignatureHeader = "X-Fieldtalk-Signature"
	HookMaxSkew         = 5 * time.Minute
)

// SignHook returns the signature headers for posting body to a hook at at.
func SignHook(secret string, body []byte, at time.Time) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(HookTimestampHeader, ts)
	h.Set(HookSignatureHeader, "v1="+hex.EncodeToString(hookMAC(secret, ts, body)))
	return h
}

func hookMAC(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// verifyHook checks r's signature over body.
func verifyHook(secret string, r *http.Request, body []byte, now time.Time) error {
	ts := r.Header.Get(HookTimestampHeader)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: no %s", errBadSignature, HookTimestampHeader)
	}
	if skew := now.Sub(time.Unix(sec, 0)); skew > HookMaxSkew || skew < -HookMaxSkew {
		return fmt.Errorf("%w: timestamp %s is %s away from the server's clock", errBadSignature, ts, skew.Round(time.Second))
	}
	sig, ok := strings.CutPrefix(r.Header.Get(HookSignatureHeader), "v1=")
	got, err := hex.DecodeString(sig)
	if !ok || err != nil || !hmac.Equal(got, hookMAC(secret, ts, body)) {
		return errBadSignature
	}
	return nil
}

// hooks serves the signed hooks.
type hooks struct {
	svc    *conversations.Service
	secret string
	now    func() time.Time
	log    *slog.Logger
}

func newHookRoutes(cfg Config, svc *conversations.Service, log *slog.Logger) []Route {
	h := &hooks{svc: svc, secret: cfg.HookSecret, now: time.Now, log: log}
	return []Route{
		{"POST /webhooks/receptionist", h.signed(h.escalate)},
		{"POST /webhooks/workflow", h.signed(h.workflow)},
	}
}

// signed reads and verifies the body, then hands it to fn.
func (h *hooks) signed(fn func(w http.ResponseWriter, r *http.Request, body []byte) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(w, r, MaxHookBodyBytes)
		if err == nil {
			err = verifyHook(h.secret, r, body, h.now())
		}
		if err == nil {
			err = fn(w, r, body)
		}
		if err != nil {
			writeError(w, r, h.log, err)
		}
	})
}

// escalationRequest is an AI receptionist handing a caller to staff.
type escalationRequest struct {
	BusinessNumber string              `json:"business_number"` // the number the customer called: it decides the business
	Contact        contactJSON         `json:"contact"`
	Summary        string              `json:"summary"`
	Transcript     string              `json:"transcript,omitempty"`
	Reason         string              `json:"reason,omitempty"`
	Urgent         bool                `json:"urgent,omitempty"`
	Job            conversations.JobID `json:"job,omitempty"`
	Key            string              `json:"key"` // the receptionist's id of this hand-off: a repeat is harmless
}

func (h *hooks) escalate(w http.ResponseWriter, r *http.Request, body []byte) error {
	var in escalationRequest
	if err := unmarshal(body, &in); err != nil {
		return err
	}
	if in.Key == "" {
		return conversations.Invalid("key", "required: it makes a repeated hand-off one message")
	}
	ctx := r.Context()
	owner, err := h.svc.NumberOwner(ctx, in.BusinessNumber)
	if err != nil {
		return err
	}
	m, err := h.svc.Escalate(ctx, conversations.Escalation{
		Tenant: owner.Tenant, Contact: contact(in.Contact), Summary: in.Summary, Transcript: in.Transcript,
		Reason: in.Reason, Urgent: in.Urgent, Job: in.Job, Key: in.Key,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toMessage(m))
	return nil
}

// workflowRequest is an automated message from the host's workflow engine.
type workflowRequest struct {
	Tenant  conversations.TenantID `json:"tenant"`
	Channel string                 `json:"channel"` // "sms" or "email"
	Contact contactJSON            `json:"contact"`
	Subject string                 `json:"subject,omitempty"`
	Body    string                 `json:"body"`
	Job     conversations.JobID    `json:"job,omitempty"`
	Key     string                 `json:"key"` // the workflow run and step: a repeat is harmless
}

func (h *hooks) workflow(w http.ResponseWriter, r *http.Request, body []byte) error {
	var in workflowRequest
	if err := unmarshal(body, &in); err != nil {
		return err
	}
	if in.Key == "" {
		return conversations.Invalid("key", "required: it makes a repeated workflow step one message")
	}
	m, err := h.svc.SendWorkflow(r.Context(), conversations.WorkflowMessage{
		Tenant: in.Tenant, Channel: in.Channel, Contact: contact(in.Contact), Subject: in.Subject,
		Body: in.Body, Job: in.Job, Key: in.Key,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, toMessage(m))
	return nil
}

func contact(c contactJSON) conversations.Contact {
	return conversations.Contact{Phone: c.Phone, Email: c.Email, Name: c.Name, Ref: c.Ref}
}
