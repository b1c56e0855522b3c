// Command server is fieldtalk's example host: the mobile app's JSON API,
// the providers' webhooks, the in-app event stream and, at /, the
// Conversations tab as a web app (package web), every package wired with
// go.uber.org/fx (see package host).
//
// With no configuration it needs no account and no network: a SQLite file,
// the console SMS channel (it prints what would be sent; POST /dev/sms
// simulates a customer's text), the rule-based suggester and the in-app
// stream. Environment variables (or flags) switch on PostgreSQL, Twilio,
// SendGrid and a model endpoint:
//
//	go run ./examples/server
//	go run ./examples/server -help
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/fieldtalk/fieldtalk/examples/server/host"
)

func main() {
	cfg, err := host.LoadConfig(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		usage()
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(2)
	}
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if cfg.LogJSON {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	// Run starts the app, waits for SIGINT or SIGTERM, and stops it
	// gracefully; it exits non-zero when starting fails.
	host.New(cfg, slog.New(h)).Run()
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: server [flags]; every flag has an environment variable, and secrets are read from the environment only:")
	for _, kv := range host.Environment {
		fmt.Fprintf(os.Stderr, "  %-30s %s\n", kv[0], kv[1])
	}
}
