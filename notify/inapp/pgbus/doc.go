// Package pgbus carries the in-app stream's signals between server
// instances over PostgreSQL LISTEN/NOTIFY, so that a phone connected to one
// instance hears of a message another instance received. It is the
// inapp.Bus for deployments where several instances share one PostgreSQL
// database (the embedded SQLite setup runs one instance and uses
// inapp.LocalBus).
//
//	bus, err := pgbus.New(db.ConnConfig(), db.SQL()) // db is a *store.DB
//	hub, err := inapp.New(inapp.Config{Log: db, Authenticate: auth, Bus: bus})
//
// A NOTIFY carries only (tenant, staff, id), well under PostgreSQL's
// 8000-byte payload limit; the receiving Hub reads the notification itself
// from the log. The listener holds one dedicated connection (LISTEN needs a
// session of its own, outside any pool), pings it when the channel is
// quiet, and reconnects with backoff when it drops; since notifications sent
// meanwhile are lost to it, every reconnection raises a Lost signal and the
// Hubs catch their streams up from the log.
//
// The package sits beside inapp rather than in store because it is
// transport, not persistence: it needs only pgx and the connection settings
// store.DB.ConnConfig hands out, and inapp itself stays free of any database
// driver.
package pgbus
