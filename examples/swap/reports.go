package main

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/examples/server/host"
)

// ReportsPath is where the gateway posts its delivery reports:
//
//	POST {public URL}/webhooks/gateway/status?tenant=T  Authorization: Bearer KEY
//	{"id": "the gateway's id", "ref": "our message id", "status": "sent" | "delivered" | "failed", "at": "RFC 3339", "code": "..."}
//
// GatewaySMS asks for them with each text (status_url); without them a
// message would stay "sending" forever.
const ReportsPath = "/webhooks/gateway/status"

// report is one delivery report of the gateway.
type report struct {
	ID     string    `json:"id"`
	Ref    string    `json:"ref"`
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Code   string    `json:"code,omitempty"`
}

// reportStatuses maps the gateway's words to ours.
var reportStatuses = map[string]conversations.Status{
	"sent": conversations.StatusSent, "delivered": conversations.StatusDelivered,
	"undelivered": conversations.StatusUndelivered, "failed": conversations.StatusFailed,
}

// NewReports is the handler of the gateway's delivery reports: it checks
// the gateway's key and applies each report under the forward-only rule.
func NewReports(cfg GatewayConfig, svc *conversations.Service, log *slog.Logger) host.Route {
	return host.Route{Pattern: "POST " + ReportsPath, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+cfg.APIKey {
			http.Error(w, "bad key", http.StatusUnauthorized)
			return
		}
		var rep report
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&rep); err != nil {
			http.Error(w, "want a JSON report", http.StatusBadRequest)
			return
		}
		st, ok := reportStatuses[rep.Status]
		if !ok {
			w.WriteHeader(http.StatusNoContent) // a status we do not track
			return
		}
		_, err := svc.ApplyStatus(r.Context(), conversations.StatusUpdate{
			Tenant: conversations.TenantID(r.URL.Query().Get("tenant")), Message: conversations.MessageID(rep.Ref),
			Channel: conversations.ChannelSMS, ProviderID: rep.ID, Status: st, At: rep.At, ErrorCode: rep.Code,
		})
		if err != nil {
			log.WarnContext(r.Context(), "gateway report refused", slog.Any("error", err))
			status := http.StatusInternalServerError
			if errors.Is(err, conversations.ErrInvalid) || errors.Is(err, conversations.ErrNotFound) {
				status = http.StatusBadRequest // the gateway would get the same answer again: it should drop it
			}
			http.Error(w, http.StatusText(status), status)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})}
}
