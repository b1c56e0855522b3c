// Package host is the example server's wiring, importable so that other
// examples (examples/swap) and tests can build on it: fx modules that wire
// every fieldtalk package with plain constructors annotated here (the
// library itself knows nothing of fx), the mobile app's JSON API, the
// signed receptionist and workflow hooks, the providers' webhooks, and an
// HTTP server with health, readiness, request logs and a graceful stop.
//
// The modules compose:
//
//	fx.New(
//		host.Logging(log),
//		host.Core(cfg),      // store, delivery queue, Service, event stream, API, hooks, web app, server
//		host.Adapters(cfg),  // SMS (console or Twilio), email (SendGrid), suggestions (rules, or a model and the rules)
//		host.WithDemo(),     // the demo business, whose bearer tokens are the Authenticator
//	)
//
// Replacing an adapter means leaving its module out and providing another
// in the same value group: a Channel in group "channels" (keyed by its
// Name), a conversations.Suggester, an Authenticator. examples/swap does so.
//
// Errors become HTTP statuses in one table (errors.go) and come back as
// {"error":{"code":"...","message":"...","field":"..."}}.
package host
