package host

import (
	"log/slog"
	"net/http"

	"github.com/fieldtalk/fieldtalk/channel/console"
	"github.com/fieldtalk/fieldtalk/conversations"
)

// consoleInboundPattern simulates a customer's SMS when no SMS provider is
// configured: the console channel prints what would be sent, and this is
// how a reply comes back.
const consoleInboundPattern = "POST /dev/sms"

func newConsoleChannel(cfg Config) (*console.Channel, error) {
	return console.New(cfg.Stdout)
}

// newConsoleRoutes serves consoleInboundPattern. It takes no credentials
// (it stands in for a provider's webhook, which carries none of ours) and
// exists only when the console channel does, on a server that listens on
// loopback by default.
func newConsoleRoutes(cfg Config, svc *conversations.Service, log *slog.Logger) []Route {
	h := func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			From  string                `json:"from"`
			To    string                `json:"to,omitempty"` // default: the demo business's number
			Body  string                `json:"body"`
			Media []conversations.Media `json:"media,omitempty"`
		}
		if err := decode(w, r, &in); err != nil {
			return err
		}
		if in.To == "" {
			in.To = cfg.SMSNumber
		}
		from, err := parsePhone("from", in.From)
		if err != nil {
			return err
		}
		ctx := r.Context()
		owner, err := svc.NumberOwner(ctx, in.To)
		if err != nil {
			return err
		}
		m, _, err := svc.Receive(ctx, conversations.InboundMessage{
			Tenant: owner.Tenant, Channel: conversations.ChannelSMS, BusinessNumber: owner.Number,
			From: from, Body: in.Body, Media: in.Media, ProviderID: "console-in-" + conversations.NewID[string](),
		})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, toMessage(m))
		return nil
	}
	return []Route{{consoleInboundPattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, r, log, err)
		}
	})}}
}
