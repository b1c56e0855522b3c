package pgbus_test

import (
	"context"
	"log"
	"net/http"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/notify/inapp"
	"github.com/fieldtalk/fieldtalk/notify/inapp/pgbus"
	"github.com/fieldtalk/fieldtalk/store"
)

// Every instance of a host wires the same way; a message any of them
// receives reaches the streams of all of them.
func Example() {
	ctx := context.Background()
	db, err := store.Open(ctx, "postgres://fieldtalk@db.internal:5432/fieldtalk")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	bus, err := pgbus.New(db.ConnConfig(), db.SQL())
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close()
	hub, err := inapp.New(inapp.Config{
		Log: db, Bus: bus,
		Authenticate: func(r *http.Request) (conversations.Viewer, error) {
			return conversations.Viewer{}, http.ErrNoCookie // the host's session check
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer hub.Close()
	mux := http.NewServeMux()
	mux.Handle("GET /conversations/stream", hub)
	log.Fatal(http.ListenAndServe(":8080", mux))
}
