package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The tour is the README's first command: it must run and tell the story.
func TestTour(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("tour failed: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"a second message created? false",
		"Tom (technician)'s inbox (badge 1)",
		"[push → Tom (technician)] message \"Hi, when will the tech get here?\" (badge 1)",
		"Tom (technician)'s badge: 0",
		"Tara (technician)'s inbox (badge 0): empty",
		"forbidden",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("transcript lacks %q:\n%s", want, got)
		}
	}
}
