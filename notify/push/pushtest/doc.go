// Package pushtest fakes the services package push talks to, on loopback:
// FCM (the OAuth token endpoint, which checks the service-account JWT's
// signature with the key's public half, and the HTTP v1 send API, which
// checks the access token) and a host's push gateway (which checks the
// web-hook signature). Both record what they accepted and can be told to
// fail as the real ones do: rate limits and outages with Retry-After,
// unregistered and invalid tokens, revoked access tokens, requests that
// never get an answer.
//
// It is importable so hosts can test their own wiring against the same
// fakes push's tests use.
package pushtest
