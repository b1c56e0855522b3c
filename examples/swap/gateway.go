package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/fieldtalk/fieldtalk/channel"
	"github.com/fieldtalk/fieldtalk/conversations"
)

// GatewaySMS is your own SMS provider as a conversations.Channel: here, an
// HTTP gateway that takes
//
//	POST {BaseURL}/v1/sms  Authorization: Bearer KEY
//	{"from": "+1...", "to": "+1...", "text": "...", "media": ["https://..."], "ref": "our message id",
//	 "status_url": "where to post delivery reports (ReportsPath)"}
//
// and answers 201 {"id": "...", "accepted_at": "RFC 3339"}, or an error
// {"code": "...", "error": "..."}. What the Channel contract asks of it,
// and channeltest checks: bad input is ErrInvalid before any call; ctx
// bounds the call; a failure is a *conversations.ProviderError whose Class
// says what a retry can do.
//
// It does not implement conversations.Finder (the gateway cannot look a
// message up by our ref), so a send whose answer was lost (MaybeSent) is
// sent again: a duplicate text rather than a lost one.
type GatewaySMS struct {
	cfg  GatewayConfig
	http *http.Client
}

// GatewayConfig is where the gateway is and the key it takes.
type GatewayConfig struct {
	BaseURL string
	APIKey  string
	// StatusURL is where the gateway posts delivery reports (the server's
	// public URL and ReportsPath); "" asks for none.
	StatusURL string
}

var _ conversations.Channel = (*GatewaySMS)(nil)

// NewGatewaySMS returns the channel. It is a plain constructor: the
// example annotates it for fx, the library never sees fx.
func NewGatewaySMS(cfg GatewayConfig) (*GatewaySMS, error) {
	if cfg.BaseURL == "" || cfg.APIKey == "" {
		return nil, conversations.Invalid("gateway", "base URL and API key are required")
	}
	return &GatewaySMS{cfg: cfg, http: &http.Client{Timeout: 15 * time.Second}}, nil
}

// Name is the channel the Service routes SMS to.
func (g *GatewaySMS) Name() string { return conversations.ChannelSMS }

// Send texts out through the gateway.
func (g *GatewaySMS) Send(ctx context.Context, out conversations.Outbound) (conversations.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return conversations.Receipt{}, fmt.Errorf("gateway: send: %w", err)
	}
	to, err := channel.ParsePhone(out.To, channel.DefaultRegion)
	if err != nil {
		return conversations.Receipt{}, fmt.Errorf("gateway: send: %w", err)
	}
	if err := out.CheckContent(); err != nil {
		return conversations.Receipt{}, fmt.Errorf("gateway: send: %w", err)
	}
	req := struct {
		From      string   `json:"from"`
		To        string   `json:"to"`
		Text      string   `json:"text"`
		Media     []string `json:"media,omitempty"`
		Ref       string   `json:"ref"`
		StatusURL string   `json:"status_url,omitempty"`
	}{From: out.From, To: to, Text: out.Body, Ref: string(out.Message)}
	if g.cfg.StatusURL != "" {
		req.StatusURL = g.cfg.StatusURL + "?" + url.Values{"tenant": {string(out.Tenant)}}.Encode()
	}
	for _, m := range out.Media {
		req.Media = append(req.Media, m.URL)
	}
	body, _ := json.Marshal(req)
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, g.cfg.BaseURL+"/v1/sms", bytes.NewReader(body))
	if err != nil {
		return conversations.Receipt{}, fmt.Errorf("gateway: send: %w", conversations.Invalid("gateway.base_url", err.Error()))
	}
	hr.Header.Set("Authorization", "Bearer "+g.cfg.APIKey)
	hr.Header.Set("Content-Type", "application/json")
	resp, err := g.http.Do(hr)
	if err != nil {
		// A connection never made sent nothing; anything later may have.
		class, reason := conversations.MaybeSent, "the gateway's answer was lost"
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			class, reason = conversations.Retryable, "the gateway could not be reached"
		}
		return conversations.Receipt{}, g.fail(class, 0, "", reason, err)
	}
	defer resp.Body.Close()
	var ans struct {
		ID         string    `json:"id"`
		AcceptedAt time.Time `json:"accepted_at"`
		Code       string    `json:"code"`
		Error      string    `json:"error"`
	}
	decodeErr := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&ans)
	switch {
	case resp.StatusCode == http.StatusCreated && decodeErr == nil && ans.ID != "":
		if ans.AcceptedAt.IsZero() {
			ans.AcceptedAt = time.Now()
		}
		return conversations.Receipt{ProviderID: ans.ID, Status: conversations.StatusQueued, At: ans.AcceptedAt}, nil
	case resp.StatusCode == http.StatusCreated, resp.StatusCode >= 500:
		return conversations.Receipt{}, g.fail(conversations.MaybeSent, resp.StatusCode, ans.Code, "the gateway may have the message but did not say so", decodeErr)
	case resp.StatusCode == http.StatusTooManyRequests:
		pe := g.fail(conversations.Retryable, resp.StatusCode, ans.Code, "the gateway is rate limiting us", nil)
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			pe.RetryAfter = time.Duration(s) * time.Second
		}
		return conversations.Receipt{}, pe
	case ans.Code == "opted_out":
		return conversations.Receipt{}, g.fail(conversations.OptedOut, resp.StatusCode, ans.Code, "the recipient has opted out", nil)
	default:
		return conversations.Receipt{}, g.fail(conversations.Permanent, resp.StatusCode, ans.Code, "the gateway refused the message: "+ans.Error, nil)
	}
}

func (g *GatewaySMS) fail(class conversations.ErrorClass, status int, code, reason string, err error) *conversations.ProviderError {
	return &conversations.ProviderError{Provider: "gateway", Op: "send", Class: class, HTTPStatus: status, Code: code, Reason: reason, Err: err}
}
