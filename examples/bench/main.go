// Command bench measures fieldtalk on a seeded PostgreSQL against
// hand-written SQL on the same schema, indexes and server, and prints one
// table: each operation's fieldtalk p50 and p99, the baseline's p50 and
// p99, and their ratio (for throughputs: transactions per second each, and
// fieldtalk's share of the baseline).
//
// It needs a PostgreSQL server it may fill (it starts none):
//
//	eval "$(scripts/pg.sh start /tmp/ftbench)"
//	go run ./examples/bench -dsn "$FIELDTALK_POSTGRES_URL" -out bench-100k.md
//	go run ./examples/bench -dsn "$FIELDTALK_POSTGRES_URL" -scale10 -out bench-1m.md
//	scripts/pg.sh stop /tmp/ftbench
//
// The dataset (by default 100,000 customer threads, 2,000,000 messages,
// 2,000 staff in 50 businesses, 1–3 jobs per thread with 1–3 assignees
// each, a few internal threads per person; -scale10 for 1,000,000 threads
// and 10,000,000 messages, where only the newest tenth of jobs keep their
// assignees, -assigned to choose) is seeded by package seed into a schema
// of its own named after its size, and kept: a later run of the same size
// reuses it (-reseed starts over). docs/BENCHMARKS.md has the results and
// the machine they were measured on.
//
// What is measured, in this order:
//
//   - Reads, through conversations.Service with policy.Default() (what a
//     host calls), against the best hand-written statement for the same
//     rows run through pgx directly: technician inbox first and fifth page,
//     dispatcher inbox, technician and dispatcher badges, one page of
//     thread history (store.DB.History, and Service.History with its
//     access check). Random viewers; fieldtalk and baseline calls are
//     interleaved, after a warm-up, so that noise falls on both alike.
//     Before timing, the Service's inbox and badge are checked against the
//     baseline's rows for random viewers.
//   - Inbound ingest: signed Twilio webhooks (twiliotest.Signer) posted
//     over loopback HTTP to twilio.Webhooks.Inbound on the real Service, to
//     existing customer threads, at concurrency 1, 4 and 16, with a
//     Notifier attached and without one; against a raw single-row INSERT
//     into messages at the same concurrency (the ceiling), and the
//     hand-written one-statement inbound ingest (dedupe, thread bump,
//     insert, counter).
//   - Webhook-to-notification latency: from the POST to the moment the
//     Service calls the Notifier for the first recipient, and from the
//     POST to the message's event on a technician's Server-Sent Events
//     stream (notify/inapp's Hub as the Notifier, on loopback).
//   - Delivery throughput: messages sent with Service.SendSMS, queued in
//     the outbox (River), then delivered to a fake Twilio on loopback;
//     against a hand-written queue (SELECT ... FOR UPDATE SKIP LOCKED,
//     POST, UPDATE) with as many workers.
//
// The server's fsync and synchronous_commit settings are printed with the
// table: they decide the write figures. When the server preloads
// pg_stat_statements, each read's row also gives the executor time per
// call of each side, which tells the SQL's cost from the client's (the
// command resets those statistics: use a server of its own).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fieldtalk/fieldtalk/internal/seed"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2)
	}
	if err := run(ctx, cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	dsn        string
	citus      bool
	seed       seed.Config
	schema     string
	reseed     bool
	runs       int
	viewers    int
	ingestFor  time.Duration
	latencyN   int
	deliverN   int
	workers    int
	out        string
	only       string
	concurrent []int
	cpuProfile string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.dsn, "dsn", "", "PostgreSQL URL of a server the benchmark may fill (required)")
	fs.BoolVar(&c.citus, "citus", false, "the server is a Citus coordinator: distribute the dataset (store.Distribute) before measuring")
	fs.IntVar(&c.seed.Threads, "threads", seed.DefaultThreads, "customer threads")
	fs.IntVar(&c.seed.Messages, "messages", seed.DefaultMessages, "messages")
	fs.IntVar(&c.seed.Businesses, "businesses", seed.DefaultBusinesses, "businesses (tenants)")
	fs.IntVar(&c.seed.Staff, "staff", seed.DefaultStaff, "staff over all businesses")
	fs.Float64Var(&c.seed.Assigned, "assigned", 0, "share of jobs (the newest) that keep their assignees (default 100,000/threads, at most 1)")
	scale10 := fs.Bool("scale10", false, "1,000,000 threads and 10,000,000 messages (overrides -threads and -messages)")
	fs.StringVar(&c.schema, "schema", "", "schema holding the dataset (default: named after its size)")
	fs.BoolVar(&c.reseed, "reseed", false, "drop the dataset's schema and seed it again")
	fs.IntVar(&c.runs, "runs", 2000, "timed runs per read operation and side")
	fs.IntVar(&c.viewers, "viewers", 200, "random viewers per read operation")
	fs.DurationVar(&c.ingestFor, "ingest-for", 8*time.Second, "how long each ingest measurement runs")
	fs.IntVar(&c.latencyN, "latency", 500, "webhooks timed for webhook-to-notification latency")
	fs.IntVar(&c.deliverN, "deliver", 2000, "messages delivered in the delivery measurement (0 skips it)")
	fs.IntVar(&c.workers, "workers", 20, "delivery workers (the outbox's default on PostgreSQL)")
	fs.StringVar(&c.out, "out", "", "also write the table as Markdown to this file")
	fs.StringVar(&c.only, "only", "", "comma-separated groups to run: reads, ingest, latency, delivery (default all)")
	concurrency := fs.String("concurrency", "1,4,16", "comma-separated client concurrencies of the ingest measurement")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write this process's CPU profile (the library's side: webhooks, Service, fan-out) to this file")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	for _, f := range strings.Split(*concurrency, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(stderr, "bench: -concurrency: %q is not a positive number\n", f)
			return c, fmt.Errorf("bad -concurrency")
		}
		c.concurrent = append(c.concurrent, n)
	}
	if *scale10 {
		c.seed.Threads, c.seed.Messages = 1_000_000, 10_000_000
	}
	if c.dsn == "" {
		fmt.Fprintln(stderr, "bench: -dsn is required (eval \"$(scripts/pg.sh start /tmp/ftbench)\" starts a server; pass $FIELDTALK_POSTGRES_URL)")
		return c, fmt.Errorf("no dsn")
	}
	if c.schema == "" {
		c.schema = fmt.Sprintf("ftbench_%d_%d_%d_%d", c.seed.Threads, c.seed.Messages, c.seed.Businesses, c.seed.Staff)
		if c.seed.Assigned > 0 {
			c.schema += fmt.Sprintf("_a%03.0f", 100*c.seed.Assigned)
		}
	}
	return c, nil
}

func (c config) wants(group string) bool {
	if c.only == "" {
		return true
	}
	for _, g := range strings.Split(c.only, ",") {
		if strings.TrimSpace(g) == group {
			return true
		}
	}
	return false
}

// schemaDSN is dsn with its connections' search_path set to schema.
func schemaDSN(dsn, schema string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("malformed -dsn: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func run(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	cfg.seed.Log = stderr
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	dsn, err := schemaDSN(cfg.dsn, cfg.schema)
	if err != nil {
		return err
	}
	if err := prepareSchema(ctx, cfg, dsn, stderr); err != nil {
		return err
	}
	env, err := newEnv(ctx, cfg, dsn)
	if err != nil {
		return err
	}
	defer env.close()
	fmt.Fprintf(stderr, "bench: %s\n", env.describe())

	var rep report
	rep.title = fmt.Sprintf("%d customer threads, %d messages, %d staff in %d businesses",
		env.shape.customerThreads, env.shape.messages, env.shape.staff, env.shape.tenants)
	rep.server = env.server
	if cfg.wants("reads") {
		if err := env.checkReads(ctx, stderr); err != nil {
			return err
		}
		rows, err := env.measureReads(ctx, stderr)
		if err != nil {
			return err
		}
		rep.rows = append(rep.rows, rows...)
	}
	if cfg.wants("ingest") {
		rows, err := env.measureIngest(ctx, stderr)
		if err != nil {
			return err
		}
		rep.rows = append(rep.rows, rows...)
	}
	if cfg.wants("latency") {
		row, err := env.measureLatency(ctx, stderr)
		if err != nil {
			return err
		}
		rep.rows = append(rep.rows, row)
		if row, err = env.measureSSE(ctx, stderr); err != nil {
			return err
		}
		rep.rows = append(rep.rows, row)
	}
	if cfg.wants("delivery") && cfg.deliverN > 0 {
		row, err := env.measureDelivery(ctx, stderr)
		if err != nil {
			return err
		}
		rep.rows = append(rep.rows, row)
	}
	rep.write(stdout)
	if cfg.out != "" {
		f, err := os.Create(cfg.out)
		if err != nil {
			return err
		}
		rep.write(f)
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// prepareSchema creates the dataset's schema and seeds it, unless it holds
// a seeded dataset already.
func prepareSchema(ctx context.Context, cfg config, dsn string, stderr io.Writer) error {
	conn, err := pgx.Connect(ctx, cfg.dsn)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	schema := pgx.Identifier{cfg.schema}.Sanitize()
	if cfg.reseed {
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("drop schema: %w", err)
		}
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	var seeded bool
	err = conn.QueryRow(ctx, `SELECT coalesce(obj_description(to_regnamespace($1)::oid, 'pg_namespace') = 'fieldtalk bench: seeded', false)`,
		cfg.schema).Scan(&seeded)
	if err != nil {
		return fmt.Errorf("read schema comment: %w", err)
	}
	if seeded {
		fmt.Fprintf(stderr, "bench: reusing the dataset in schema %s (-reseed to start over)\n", cfg.schema)
		return nil
	}
	// A half-seeded schema (an interrupted run) is dropped and done again.
	if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE; CREATE SCHEMA "+schema); err != nil {
		return fmt.Errorf("reset schema: %w", err)
	}
	fmt.Fprintf(stderr, "bench: seeding schema %s\n", cfg.schema)
	if _, err := seed.Run(ctx, dsn, cfg.seed); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "COMMENT ON SCHEMA "+schema+" IS 'fieldtalk bench: seeded'"); err != nil {
		return fmt.Errorf("mark schema: %w", err)
	}
	return nil
}
