package inapp_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/notify/inapp"
	"github.com/fieldtalk/fieldtalk/store"
)

// A Hub on the embedded SQLite store: the app opens the stream, the Service
// (here, a direct Notify) tells of a new message, and the stream carries it
// with the badge.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "inapp-example")
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "fieldtalk.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		fmt.Println(err)
		return
	}

	hub, _ := inapp.New(inapp.Config{
		Log: db,
		// The host's own authentication; here a header names the viewer.
		Authenticate: func(r *http.Request) (conversations.Viewer, error) {
			if r.Header.Get("X-Staff") == "" {
				return conversations.Viewer{}, errors.New("no session")
			}
			return conversations.Viewer{Tenant: "acme", Staff: conversations.StaffID(r.Header.Get("X-Staff")), Role: conversations.RoleDispatcher}, nil
		},
	})
	srv := httptest.NewServer(hub)
	defer srv.Close()
	defer hub.Close()

	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("X-Staff", "dana")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	lines := bufio.NewReader(resp.Body)
	print := func(events int) {
		for events > 0 {
			l, _ := lines.ReadString('\n')
			fmt.Print(l)
			if strings.TrimSpace(l) == "" {
				events--
			}
		}
	}
	print(2) // the retry delay, and ready with the id to resume from

	_ = hub.Notify(ctx, conversations.Notification{
		Tenant: "acme", Recipient: "dana", Type: conversations.EventMessage, Thread: "th-1", Badge: 1,
		At: time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC),
	})
	print(1)
	// Output:
	// retry: 3000
	//
	// id: 0000000000000000
	// event: ready
	// data: {"last_id":"0000000000000000"}
	//
	// id: 0000000000000001
	// event: message
	// data: {"id":"0000000000000001","tenant":"acme","recipient":"dana","type":"message","thread":"th-1","badge":1,"at":"2026-05-01T09:30:00Z"}
	//
}
