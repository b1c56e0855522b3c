package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/store"
)

// The status sweep finds messages a provider has accepted, with no final
// status and no delivery job left to ask for one, and gives each a job.
// Deliver's own jobs keep asking from the moment the provider accepts
// (conversations.Later), so what the sweep finds are messages accepted
// before those checks existed, or whose check was lost with a job row
// deleted by hand; Deliver decides, as for any job, whether and when there
// is anything to ask.

// WithStatusSweep sets how often the status sweep runs (default every
// hour, and once at start; River runs it on the leading instance only) and
// how far back it looks (default conversations.DefaultStatusCheckFor:
// older messages are not asked about any more). A negative every turns it
// off.
func WithStatusSweep(every, window time.Duration) Option {
	return func(c *config) { c.sweepEvery, c.sweepWindow = every, window }
}

const sweepPage = 500

// sweepArgs is the periodic job that runs the sweep.
type sweepArgs struct{}

func (sweepArgs) Kind() string { return "fieldtalk_status_sweep" }

type sweepWorker struct {
	river.WorkerDefaults[sweepArgs]
	o *Outbox
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[sweepArgs]) error {
	n, err := w.o.SweepStatusChecks(ctx)
	w.o.cfg.log.InfoContext(ctx, "outbox: status sweep", "scheduled", n, "error", err)
	return err
}

// periodicJobs are the sweeps' schedules (this one's and the fan-out
// sweep's, fanout.go), without those turned off.
func (c *config) periodicJobs() []*river.PeriodicJob {
	var jobs []*river.PeriodicJob
	if c.sweepEvery >= 0 {
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(c.sweepEvery),
			func() (river.JobArgs, *river.InsertOpts) {
				return sweepArgs{}, &river.InsertOpts{Queue: Queue, Priority: 4}
			}, &river.PeriodicJobOpts{RunOnStart: true}))
	}
	if j := c.fanOutJob(); j != nil {
		jobs = append(jobs, j)
	}
	return jobs
}

// WithStatusSweepMinAge leaves messages younger than d to their own
// delivery job (default 15 minutes): since status checks exist, every
// accepted message has one, so only older messages can lack it, and a
// sweep that skips the young ones does not look up the jobs of a busy
// queue one by one.
func WithStatusSweepMinAge(d time.Duration) Option { return func(c *config) { c.sweepMinAge = d } }

// SweepStatusChecks runs the status sweep now and returns how many
// messages it gave a job. The periodic job calls it; hosts that turned the
// schedule off may call it themselves.
func (o *Outbox) SweepStatusChecks(ctx context.Context) (int, error) {
	now := time.Now()
	var after store.MessageKey
	scheduled := 0
	for {
		page, err := o.db.UnfinishedOutbound(ctx, now.Add(-o.cfg.sweepWindow), now.Add(-o.cfg.sweepMinAge), after, sweepPage)
		if err != nil {
			return scheduled, fmt.Errorf("outbox: status sweep: %w", err)
		}
		for _, k := range page {
			pending, err := o.pendingJob(ctx, k)
			if err != nil {
				return scheduled, err
			}
			if pending {
				continue
			}
			// Check sets the job apart from the message's finished delivery
			// job, which River keeps a while and counts for uniqueness; a
			// second sweep finds this one pending.
			_, err = o.client.Insert(ctx, deliverArgs{What: string(conversations.DeliverMessage), Tenant: string(k.Tenant), Message: string(k.ID), Check: true},
				&river.InsertOpts{Queue: Queue, Priority: 3, UniqueOpts: river.UniqueOpts{ByArgs: true}})
			if err != nil {
				return scheduled, fmt.Errorf("outbox: status sweep: %w", err)
			}
			scheduled++
		}
		if len(page) < sweepPage {
			return scheduled, nil
		}
		after = page[len(page)-1]
	}
}

// pendingJob says whether k has a delivery job that will still run.
func (o *Outbox) pendingJob(ctx context.Context, k store.MessageKey) (bool, error) {
	const states = `('available', 'pending', 'retryable', 'running', 'scheduled')`
	var q string
	var args []any
	if o.db.Dialect() == store.DialectSQLite {
		q = `SELECT EXISTS (SELECT 1 FROM river_job WHERE kind = ? AND state IN ` + states + `
  AND json_extract(args, '$.message') = ? AND json_extract(args, '$.tenant') = ?)`
		args = []any{deliverArgs{}.Kind(), string(k.ID), string(k.Tenant)}
	} else {
		// River's GIN index on args answers the containment.
		match, err := json.Marshal(map[string]string{"tenant": string(k.Tenant), "message": string(k.ID)})
		if err != nil {
			return false, err
		}
		q = `SELECT EXISTS (SELECT 1 FROM river_job WHERE kind = $1 AND state IN ` + states + ` AND args @> $2::jsonb)`
		args = []any{deliverArgs{}.Kind(), string(match)}
	}
	var pending bool
	if err := o.db.SQL().QueryRowContext(ctx, q, args...).Scan(&pending); err != nil {
		return false, dbErr("status sweep", err)
	}
	return pending, nil
}
