package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// DefaultFCMBaseURL is Firebase Cloud Messaging's API.
const DefaultFCMBaseURL = "https://fcm.googleapis.com"

// FCMConfig configures an FCM Notifier.
type FCMConfig struct {
	// Credentials is a service-account key file (JSON) of the Firebase
	// project, with the Firebase Cloud Messaging API role. Required.
	Credentials []byte
	// ProjectID is the Firebase project; default the credentials' project_id.
	ProjectID string
	// Devices finds a staff member's push tokens; required (*store.DB).
	Devices Devices
	// BaseURL is the FCM API (default DefaultFCMBaseURL); tests point it at
	// a fake.
	BaseURL string
	// TokenURL is the OAuth token endpoint; default the credentials'
	// token_uri, else DefaultTokenURL.
	TokenURL string
}

// FCM is a conversations.Notifier that pushes to every registered device of
// the recipient through Firebase Cloud Messaging's HTTP v1 API, with the
// recipient's badge (iOS badge, Android notification count, and the data
// the app reads). A token FCM reports as gone (UNREGISTERED, or an invalid
// token) is removed from Devices. Safe for concurrent use.
type FCM struct {
	devices Devices
	sendURL string
	tokens  *tokenSource
	o       options
}

var _ conversations.Notifier = (*FCM)(nil)

// NewFCM returns an FCM Notifier. Options: WithHTTPClient, WithLogger,
// WithClock, WithSleep, WithRetries, WithBackoff, WithMaxRetryAfter, WithRenderer,
// WithVisibility.
func NewFCM(cfg FCMConfig, opts ...Option) (*FCM, error) {
	if cfg.Devices == nil {
		return nil, fmt.Errorf("push: fcm: %w", conversations.Invalid("config.devices", "required (*store.DB is one)"))
	}
	sa, key, err := parseServiceAccount(cfg.Credentials)
	if err != nil {
		return nil, fmt.Errorf("push: fcm: %w", err)
	}
	project := cfg.ProjectID
	if project == "" {
		project = sa.ProjectID
	}
	if project == "" {
		return nil, fmt.Errorf("push: fcm: %w", conversations.Invalid("config.project_id", "empty, and the credentials name none"))
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultFCMBaseURL
	}
	tokenURL := cfg.TokenURL
	if tokenURL == "" {
		tokenURL = sa.TokenURI
	}
	if tokenURL == "" {
		tokenURL = DefaultTokenURL
	}
	for field, u := range map[string]string{"config.base_url": base, "config.token_url": tokenURL} {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return nil, fmt.Errorf("push: fcm: %w", conversations.Invalid(field, "not an http(s) URL"))
		}
	}
	o := buildOptions(opts)
	f := &FCM{
		devices: cfg.Devices,
		sendURL: strings.TrimSuffix(base, "/") + "/v1/projects/" + url.PathEscape(project) + "/messages:send",
		o:       o,
	}
	f.tokens = &tokenSource{sa: sa, key: key, tokenURL: tokenURL, o: &f.o}
	return f, nil
}

// Notify pushes n to each of the recipient's devices, concurrently. A
// notification the Renderer skips sends nothing. The error joins the
// devices' failures; a device whose token FCM no longer knows is removed,
// not reported.
func (f *FCM) Notify(ctx context.Context, n conversations.Notification) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("push: fcm: %w", err)
	}
	if err := n.Check(); err != nil {
		return fmt.Errorf("push: fcm: %w", err)
	}
	p, ok := f.o.show(n)
	if !ok {
		return nil
	}
	if ok, err := f.o.stillVisible(ctx, n); err != nil || !ok {
		return f.withdrawn(ctx, n, err)
	}
	tokens, err := f.devices.DeviceTokens(ctx, n.Tenant, n.Recipient)
	if err != nil {
		return fmt.Errorf("push: fcm: devices: %w", err)
	}
	if len(tokens) == 0 {
		return nil
	}
	errs := make([]error, len(tokens))
	var wg sync.WaitGroup
	for i, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.sendOne(ctx, n, p, tok)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// sendOne pushes to one device, retrying what FCM refused for now.
func (f *FCM) sendOne(ctx context.Context, n conversations.Notification, p Push, token string) error {
	body, err := json.Marshal(fcmRequest{Message: fcmMessageFor(n, p, token)})
	if err != nil {
		return fmt.Errorf("push: fcm: encode: %w", err)
	}
	reauthed := false
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			if ok, err := f.o.stillVisible(ctx, n); err != nil || !ok {
				return f.withdrawn(ctx, n, err)
			}
		}
		perr := f.post(ctx, body)
		if perr == nil {
			return nil
		}
		switch {
		case perr.Code == "UNREGISTERED" || perr.Code == codeBadToken:
			if err := f.devices.RemoveDeviceToken(ctx, n.Tenant, token); err != nil {
				return fmt.Errorf("push: fcm: remove dead token: %w", err)
			}
			f.o.log.LogAttrs(ctx, slog.LevelInfo, "push: fcm: removed a dead device token",
				slog.String("tenant", string(n.Tenant)), slog.String("staff", string(n.Recipient)), slog.String("reason", perr.Code))
			return nil
		case perr.HTTPStatus == http.StatusUnauthorized && !reauthed:
			// The access token was revoked or expired early: fetch another, once.
			reauthed = true
			continue
		case perr.Class != conversations.Retryable || ctx.Err() != nil:
			return fmt.Errorf("push: fcm: device %s: %w", tokenHint(token), perr)
		}
		d, ok := f.o.wait(ctx, attempt, perr.RetryAfter)
		if !ok {
			return fmt.Errorf("push: fcm: device %s: gave up after %d attempts: %w", tokenHint(token), attempt, perr)
		}
		if err := f.o.sleep(ctx, d); err != nil {
			return fmt.Errorf("push: fcm: device %s: %w", tokenHint(token), errors.Join(err, perr))
		}
	}
}

// withdrawn ends a push whose recipient may no longer see its thread (err
// nil), or for which that could not be asked.
func (f *FCM) withdrawn(ctx context.Context, n conversations.Notification, err error) error {
	if err != nil {
		return fmt.Errorf("push: fcm: visibility: %w", err)
	}
	f.o.log.LogAttrs(ctx, slog.LevelDebug, "push: fcm: dropped: the recipient may no longer see the thread",
		slog.String("tenant", string(n.Tenant)), slog.String("staff", string(n.Recipient)))
	return nil
}

// codeBadToken marks an INVALID_ARGUMENT that FCM blamed on the token (and
// not on the message, which a new token would not fix).
const codeBadToken = "INVALID_TOKEN"

// post sends one request and classifies the answer.
func (f *FCM) post(ctx context.Context, body []byte) *conversations.ProviderError {
	access, err := f.tokens.get(ctx)
	if err != nil {
		var perr *conversations.ProviderError
		if errors.As(err, &perr) {
			return perr
		}
		return &conversations.ProviderError{Provider: "fcm", Op: "token", Class: conversations.Permanent, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.sendURL, bytes.NewReader(body))
	if err != nil {
		return &conversations.ProviderError{Provider: "fcm", Op: "send", Class: conversations.Permanent, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := f.o.http.Do(req)
	if err != nil {
		// A push sent twice is a lesser harm than one lost: retry.
		return &conversations.ProviderError{Provider: "fcm", Op: "send", Class: conversations.Retryable, Err: err}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	perr := classifyFCM(resp.StatusCode, raw)
	perr.RetryAfter = retryAfter(resp.Header, f.o.now())
	if resp.StatusCode == http.StatusUnauthorized {
		f.tokens.invalidate(access)
	}
	return perr
}

// fcmError is FCM's error body.
type fcmError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Type            string `json:"@type"`
			ErrorCode       string `json:"errorCode"`
			FieldViolations []struct {
				Field string `json:"field"`
			} `json:"fieldViolations"`
		} `json:"details"`
	} `json:"error"`
}

// classifyFCM reads an error answer: FCM's error code when it gave one,
// whether the token is to blame, and whether a retry can help.
func classifyFCM(status int, body []byte) *conversations.ProviderError {
	perr := &conversations.ProviderError{Provider: "fcm", Op: "send", Class: conversations.Permanent, HTTPStatus: status}
	var e fcmError
	if json.Unmarshal(body, &e) == nil {
		perr.Code, perr.Reason = e.Error.Status, e.Error.Message
		badToken := false
		for _, d := range e.Error.Details {
			if d.ErrorCode != "" {
				perr.Code = d.ErrorCode
			}
			for _, v := range d.FieldViolations {
				if v.Field == "message.token" {
					badToken = true
				}
			}
		}
		if perr.Code == "INVALID_ARGUMENT" && badToken {
			perr.Code = codeBadToken
		}
	}
	if retryable(status) {
		perr.Class = conversations.Retryable
	}
	if perr.Code == "" {
		perr.Code = strconv.Itoa(status)
	}
	return perr
}

// tokenHint names a device in errors without writing its whole token.
func tokenHint(token string) string {
	if len(token) <= 8 {
		return "…"
	}
	return "…" + token[len(token)-6:]
}

type fcmRequest struct {
	Message fcmMessage `json:"message"`
}

type fcmMessage struct {
	Token        string            `json:"token"`
	Notification *fcmNotification  `json:"notification,omitempty"`
	Data         map[string]string `json:"data"`
	Android      fcmAndroid        `json:"android"`
	APNS         fcmAPNS           `json:"apns"`
}

type fcmNotification struct {
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
}

type fcmAndroid struct {
	Priority     string               `json:"priority"`
	CollapseKey  string               `json:"collapse_key,omitempty"`
	Notification *fcmAndroidNotifInfo `json:"notification,omitempty"`
}

type fcmAndroidNotifInfo struct {
	Tag               string `json:"tag,omitempty"`
	NotificationCount int64  `json:"notification_count"`
}

type fcmAPNS struct {
	Headers map[string]string `json:"headers"`
	Payload fcmAPNSPayload    `json:"payload"`
}

type fcmAPNSPayload struct {
	APS fcmAPS `json:"aps"`
}

type fcmAPS struct {
	Badge             int64  `json:"badge"`
	Sound             string `json:"sound,omitempty"`
	ThreadID          string `json:"thread-id,omitempty"`
	ContentAvailable  int    `json:"content-available,omitempty"`
	InterruptionLevel string `json:"interruption-level,omitempty"`
}

// Data keys of a push, for the app to read.
const (
	DataType    = "type"     // "message", "status", "read"
	DataThread  = "thread"   // the thread id
	DataMessage = "message"  // the message id, when there is one
	DataBadge   = "badge"    // the recipient's unread count, in decimal
	DataReadSeq = "read_seq" // "read": the new read horizon
	DataUrgent  = "urgent"   // "1" for an urgent notification
	DataEventID = "event_id" // the in-app stream's event id, when logged
	// DataCollapseKey is the thread's CollapseKey, on a push that shows
	// something, for an app that posts its own notifications.
	DataCollapseKey = "collapse_key"
)

// fcmMessageFor builds the FCM message for one device: shown, with sound,
// or silent (a badge update the app wakes for in the background).
func fcmMessageFor(n conversations.Notification, p Push, token string) fcmMessage {
	data := map[string]string{
		DataType:   string(n.Type),
		DataThread: string(n.Thread),
		DataBadge:  strconv.FormatInt(n.Badge, 10),
	}
	if n.Message != nil {
		data[DataMessage] = string(n.Message.ID)
	}
	if n.ReadSeq > 0 {
		data[DataReadSeq] = strconv.FormatInt(n.ReadSeq, 10)
	}
	if n.Urgent {
		data[DataUrgent] = "1"
	}
	if n.ID != "" {
		data[DataEventID] = n.ID
	}
	m := fcmMessage{Token: token, Data: data}
	if p.Silent() {
		m.Android = fcmAndroid{Priority: "normal", CollapseKey: "badge"}
		m.APNS = fcmAPNS{
			Headers: map[string]string{"apns-priority": "5", "apns-push-type": "background"},
			Payload: fcmAPNSPayload{APS: fcmAPS{Badge: n.Badge, ContentAvailable: 1}},
		}
		return m
	}
	// One notification per thread on the phone: Android replaces a shown
	// notification of the same tag, iOS one of the same apns-collapse-id.
	// Not android.collapse_key: FCM keeps at most four collapse keys per
	// device, and it only collapses messages still waiting for delivery.
	key := CollapseKey(n.Thread)
	data[DataCollapseKey] = key
	m.Notification = &fcmNotification{Title: p.Title, Body: p.Body}
	m.Android = fcmAndroid{Priority: "high", Notification: &fcmAndroidNotifInfo{Tag: key, NotificationCount: n.Badge}}
	aps := fcmAPS{Badge: n.Badge, Sound: "default", ThreadID: string(n.Thread)}
	if n.Urgent {
		aps.InterruptionLevel = "time-sensitive"
	}
	m.APNS = fcmAPNS{
		Headers: map[string]string{"apns-priority": "10", "apns-push-type": "alert", "apns-collapse-id": key},
		Payload: fcmAPNSPayload{APS: aps},
	}
	return m
}
