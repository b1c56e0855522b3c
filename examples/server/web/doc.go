// Package web is the Conversations tab as a mobile web app: an installable
// progressive web app, embedded in the binary and served by the example
// host at "/". It is plain HTML, CSS and ES modules (no build step) and
// talks to the server only through the public JSON API and the event
// stream, so it is also the reference client of both:
//
//   - api.js     every call, with the bearer token of the tab's session
//   - stream.js  the event stream read over fetch (EventSource cannot send
//     the Authorization header), resumed with Last-Event-ID
//   - db.js      IndexedDB: the outbox of unsent messages, local drafts and
//     the last inbox and thread pages, for offline use
//   - sw.js      the service worker that keeps the app shell for offline starts
//
// Handler serves the files, gzipped when the client accepts it.
package web
