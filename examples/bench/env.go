package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/policy"
	"github.com/fieldtalk/fieldtalk/store"
)

// env is what every measurement shares: the store and Service under test,
// and a pgx connection for the baseline, on the same server and schema.
type env struct {
	cfg    config
	dsn    string
	db     *store.DB
	svc    *conversations.Service
	base   *pgx.Conn // the baseline's connection (reads run one at a time)
	server string    // server version and durability settings
	// statements: the server has pg_stat_statements, so reads can be split
	// into server time and the rest.
	statements bool
	shape      shape
	rng        *rand.Rand

	technicians []viewer // with at least one visible thread
	fivePagers  []viewer // technicians with more than four pages
	dispatchers []viewer
	histories   []historyCase
}

type viewer struct {
	conversations.Viewer
	visible int
}

type historyCase struct {
	v      conversations.Viewer
	thread conversations.ThreadID
}

type shape struct {
	tenants, staff, customerThreads, internalThreads, messages int64
	medianTech, maxTech                                        int64
}

func newEnv(ctx context.Context, cfg config, dsn string) (*env, error) {
	e := &env{cfg: cfg, dsn: dsn, rng: rand.New(rand.NewPCG(42, 7))}
	var err error
	// A pool as large as the widest ingest, so that the store is not what
	// caps concurrency.
	e.db, err = store.Open(ctx, dsn, store.WithMaxOpenConns(32))
	if err != nil {
		return nil, err
	}
	// A reused dataset gets the migrations added since it was seeded.
	if err := e.db.Migrate(ctx); err != nil {
		e.close()
		return nil, err
	}
	if cfg.citus {
		// Seeded on the coordinator, then spread over the workers (once:
		// a distributed dataset is left as it is).
		if err := e.db.Distribute(ctx); err != nil {
			e.close()
			return nil, err
		}
	}
	e.svc, err = conversations.NewService(conversations.Config{Store: e.db, Policy: policy.Default()})
	if err != nil {
		e.close()
		return nil, err
	}
	e.base, err = pgx.Connect(ctx, dsn)
	if err != nil {
		e.close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	var version, fsync, syncCommit, sharedBuffers string
	err = e.base.QueryRow(ctx, `SELECT split_part(version(), ' on ', 1), current_setting('fsync'),
  current_setting('synchronous_commit'), current_setting('shared_buffers')`).Scan(&version, &fsync, &syncCommit, &sharedBuffers)
	if err != nil {
		e.close()
		return nil, err
	}
	e.server = fmt.Sprintf("%s, fsync=%s, synchronous_commit=%s, shared_buffers=%s", version, fsync, syncCommit, sharedBuffers)
	err = e.base.QueryRow(ctx, `SELECT (SELECT count(*) FROM business_numbers), (SELECT count(*) FROM staff),
  (SELECT count(*) FROM threads WHERE kind = 'customer'), (SELECT count(*) FROM threads WHERE kind = 'internal'),
  (SELECT count(*) FROM messages)`).Scan(&e.shape.tenants, &e.shape.staff, &e.shape.customerThreads, &e.shape.internalThreads, &e.shape.messages)
	if err != nil {
		e.close()
		return nil, err
	}
	// pg_stat_statements is there when the server preloads it.
	if _, err := e.base.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements SCHEMA public"); err == nil {
		var n int64
		e.statements = e.base.QueryRow(ctx, "SELECT count(*) FROM public.pg_stat_statements").Scan(&n) == nil
	}
	if err := e.pickViewers(ctx); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func (e *env) close() {
	if e.base != nil {
		_ = e.base.Close(context.Background())
	}
	if e.db != nil {
		_ = e.db.Close()
	}
}

func (e *env) describe() string {
	return fmt.Sprintf("%d businesses, %d staff, %d customer + %d internal threads, %d messages; "+
		"a technician sees a median of %d threads (max %d); %d technicians have a fifth page; %s",
		e.shape.tenants, e.shape.staff, e.shape.customerThreads, e.shape.internalThreads, e.shape.messages,
		e.shape.medianTech, e.shape.maxTech, len(e.fivePagers), e.server)
}

// pickViewers draws the random viewers of the read measurements.
func (e *env) pickViewers(ctx context.Context) error {
	rows, err := e.base.Query(ctx, `
SELECT s.tenant_id, s.id, s.role,
  (SELECT count(*) FROM staff_thread_visibility v JOIN threads t ON t.tenant_id = v.tenant_id AND t.id = v.thread_id
   WHERE v.tenant_id = s.tenant_id AND v.staff_id = s.id AND NOT t.archived
     AND (v.participant OR (v.job_refs > 0 AND t.kind = 'customer')))
FROM staff s ORDER BY s.tenant_id, s.id`)
	if err != nil {
		return fmt.Errorf("pick viewers: %w", err)
	}
	var all []viewer
	for rows.Next() {
		var v viewer
		var tenant, staff, role string
		if err := rows.Scan(&tenant, &staff, &role, &v.visible); err != nil {
			return err
		}
		v.Viewer = conversations.Viewer{Tenant: conversations.TenantID(tenant), Staff: conversations.StaffID(staff), Role: conversations.Role(role)}
		all = append(all, v)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pick viewers: %w", err)
	}
	var counts []int
	for _, v := range all {
		switch {
		case v.Role == conversations.RoleTechnician && v.visible > 0:
			e.technicians = append(e.technicians, v)
			counts = append(counts, v.visible)
			if v.visible > 4*50 {
				e.fivePagers = append(e.fivePagers, v)
			}
		case v.Role == conversations.RoleDispatcher:
			e.dispatchers = append(e.dispatchers, v)
		}
	}
	if len(e.technicians) == 0 || len(e.dispatchers) == 0 {
		return fmt.Errorf("pick viewers: the dataset has no technician with threads or no dispatcher")
	}
	slices.Sort(counts)
	e.shape.medianTech, e.shape.maxTech = int64(counts[len(counts)/2]), int64(counts[len(counts)-1])
	e.technicians = shuffle(e.rng, e.technicians, e.cfg.viewers)
	e.fivePagers = shuffle(e.rng, e.fivePagers, e.cfg.viewers)
	e.dispatchers = shuffle(e.rng, e.dispatchers, e.cfg.viewers)

	// History: a technician's visible customer thread with at least a page
	// of messages, for random technicians.
	for _, v := range e.technicians {
		var thread string
		err := e.base.QueryRow(ctx, `
SELECT t.id FROM staff_thread_visibility v JOIN threads t ON t.tenant_id = v.tenant_id AND t.id = v.thread_id
WHERE v.tenant_id = $1 AND v.staff_id = $2 AND NOT t.archived AND v.job_refs > 0 AND t.kind = 'customer'
ORDER BY t.last_seq >= 50 DESC, md5(t.id) LIMIT 1`, string(v.Tenant), string(v.Staff)).Scan(&thread)
		if err != nil {
			return fmt.Errorf("pick history: %w", err)
		}
		e.histories = append(e.histories, historyCase{v: v.Viewer, thread: conversations.ThreadID(thread)})
	}
	return nil
}

// shuffle shuffles s and returns its first n.
func shuffle[T any](r *rand.Rand, s []T, n int) []T {
	r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	return s[:min(n, len(s))]
}

// pool opens a pgx pool of n connections on the dataset, for the
// concurrent baselines.
func (e *env) pool(ctx context.Context, n int) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(e.dsn)
	if err != nil {
		return nil, err
	}
	pc.MaxConns, pc.MinConns = int32(n), int32(n)
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, err
	}
	// Open every connection before the clock starts.
	conns := make([]*pgxpool.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	for range n {
		c, err := pool.Acquire(ctx)
		if err != nil {
			pool.Close()
			return nil, err
		}
		conns = append(conns, c)
	}
	return pool, nil
}
