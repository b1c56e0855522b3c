// Command swap is the example server with two adapters replaced by your
// own, in a few dozen lines each: an SMS provider (GatewaySMS, a
// conversations.Channel for an HTTP SMS gateway) and a suggester
// (Phrasebook, the business's saved replies). Everything else is the
// example server's wiring (package host), unchanged.
//
//	go run ./examples/swap
//
// With SWAP_GATEWAY_URL and SWAP_GATEWAY_KEY unset, a stand-in for the
// gateway runs on loopback and prints what it receives. The tests run both
// adapters through the conformance suites every adapter passes
// (channeltest, suggesttest).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"go.uber.org/fx"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/examples/server/host"
)

func main() {
	cfg, err := host.LoadConfig(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "usage: swap [the example server's flags]; SWAP_GATEWAY_URL and SWAP_GATEWAY_KEY name your SMS gateway")
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "swap:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	fx.New(options(cfg, log, gateway(os.Getenv))).Run()
}

// options are the example server's modules without its SMS channel and
// suggester (host.SMS, host.Suggestions), and yours in their place: plain
// constructors, annotated here. The channel joins the group "channels",
// where the Service keys channels by Name(), so it takes the "sms" slot.
func options(cfg host.Config, log *slog.Logger, gw fx.Option) fx.Option {
	return fx.Options(
		host.Logging(log),
		host.Core(cfg),
		host.Email(cfg),
		host.WithDemo(),
		host.DevSMS(), // POST /dev/sms plays the customer, as with the console channel
		gw,
		fx.Provide(
			fx.Annotate(NewGatewaySMS, fx.As(new(conversations.Channel)), fx.ResultTags(`group:"channels"`)),
			fx.Annotate(NewReports, fx.ResultTags(`group:"routes"`)),
			fx.Annotate(AcmePhrasebook, fx.As(new(conversations.Suggester))),
		),
	)
}

// gateway supplies where the gateway is: SWAP_GATEWAY_URL and
// SWAP_GATEWAY_KEY, or else the stand-in, started on loopback.
func gateway(getenv func(string) string) fx.Option {
	if u := getenv("SWAP_GATEWAY_URL"); u != "" {
		return fx.Provide(func(cfg host.Config) GatewayConfig {
			return GatewayConfig{BaseURL: u, APIKey: getenv("SWAP_GATEWAY_KEY"), StatusURL: cfg.PublicURL + ReportsPath}
		})
	}
	return fx.Options(fx.Provide(func(lc fx.Lifecycle, cfg host.Config, log *slog.Logger) (GatewayConfig, *standIn, error) {
		const key = "stand-in-key"
		s := newStandIn(key, cfg.Stdout)
		url, stop, err := serve(s)
		if err != nil {
			return GatewayConfig{}, nil, err
		}
		log.Info("no SWAP_GATEWAY_URL: texts go to a stand-in gateway on loopback", slog.String("url", url))
		lc.Append(fx.Hook{OnStop: func(ctx context.Context) error { s.wait(); return stop(ctx) }})
		// Reports go to the server this process runs, wherever it listens.
		return GatewayConfig{BaseURL: url, APIKey: key, StatusURL: ReportsPath}, s, nil
	}), fx.Invoke(func(s *standIn, srv *host.Server) { s.server = srv.URL }))
}
