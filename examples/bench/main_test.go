package main

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/fieldtalk/fieldtalk/internal/testdb"
)

// The whole command on a tiny dataset: seeding, the correctness check of
// the Service against the baseline, every measurement and the table. Two
// businesses of ten staff, so that technicians have a fifth page.
func TestBenchSmall(t *testing.T) {
	dsn := testdb.PostgresDSN(t) // skips without FIELDTALK_POSTGRES_URL, fails under CI=true
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	base := os.Getenv(testdb.EnvPostgresURL)
	var stderr bytes.Buffer
	cfg, err := parseFlags([]string{"-dsn", base, "-schema", schema,
		"-threads", "2000", "-messages", "10000", "-businesses", "2", "-staff", "20",
		"-runs", "20", "-viewers", "10", "-ingest-for", "100ms", "-latency", "5", "-deliver", "20", "-workers", "4",
		"-out", t.TempDir() + "/bench.md"}, &stderr)
	if err != nil {
		t.Fatalf("flags: %v\n%s", err, stderr.String())
	}
	var out bytes.Buffer
	if err := run(context.Background(), cfg, &out, &stderr); err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr.String())
	}
	md, err := os.ReadFile(cfg.out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(md, out.Bytes()) {
		t.Errorf("-out must hold the table printed")
	}
	for _, want := range []string{
		"the Service returns the baseline's rows",
		"| technician inbox, first page (50) |",
		"| technician inbox, fifth page |",
		"| dispatcher inbox, first page (50) |",
		"| technician badge |",
		"| dispatcher badge |",
		"| thread history, newest 50 (store.DB.History) |",
		"| thread history with access check (Service.History) |",
		"| inbound webhook ingest, concurrency 16, Notifier attached |",
		"| webhook to first Notifier call, concurrency 1 |",
		"| webhook to SSE event on the technician's stream, 200 inbound/s",
		"| delivery throughput, 4 workers |",
	} {
		if !strings.Contains(out.String()+stderr.String(), want) {
			t.Errorf("output lacks %q:\n%s\n%s", want, out.String(), stderr.String())
		}
	}
	// A second run reuses the dataset.
	stderr.Reset()
	cfg.only, cfg.out = "reads", ""
	if err := run(context.Background(), cfg, &out, &stderr); err != nil {
		t.Fatalf("second run: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "reusing the dataset") {
		t.Errorf("the second run must reuse the seeded schema:\n%s", stderr.String())
	}
}

func TestFlags(t *testing.T) {
	var stderr bytes.Buffer
	if _, err := parseFlags(nil, &stderr); err == nil || !strings.Contains(stderr.String(), "-dsn is required") {
		t.Errorf("a missing -dsn must be refused with a hint: %v %q", err, stderr.String())
	}
	cfg, err := parseFlags([]string{"-dsn", "postgres://x/y", "-scale10"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.seed.Threads != 1_000_000 || cfg.seed.Messages != 10_000_000 || cfg.schema != "ftbench_1000000_10000000_50_2000" {
		t.Errorf("-scale10: %+v", cfg)
	}
}
