package main

import (
	"context"
	"os"
	"path/filepath"
)

// A webhook-only host: Sync, Hooks and Worker, no App.
func Example() {
	dir, err := os.MkdirTemp("", "hooksonly")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := run(context.Background(), filepath.Join(dir, "hooks.db"), os.Stdout); err != nil {
		panic(err)
	}
	// Output:
	// received for acme-plumbing: "Is Sam still coming today?" (new: true)
	// workflow message queued, same thread: true
	// sms +14155550100 -> +14155550142: Yes: Sam arrives between 2 and 4 PM.
	// delivered: sent
}
