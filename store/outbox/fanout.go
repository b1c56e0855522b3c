package outbox

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// The fan-out sweep: a new inbound message's fan-out is owed with it in the
// store (conversations.FanOutStore), and the Service tells its viewers right
// after the commit. The sweep finds the marks that outlived that (a crash
// between the commit and the fan-out, a fan-out that failed) and has the
// Service fan them out (conversations.Worker.FanOutOwed).

// WithFanOutSweep sets how often the fan-out sweep runs (default every 5
// s, and once at start; River runs it on the leading instance only) and how
// old a mark must be for the sweep to take it (default 10 s: younger ones
// are the Service's own fan-out loop's, in flight). A negative every turns
// it off.
func WithFanOutSweep(every, olderThan time.Duration) Option {
	return func(c *config) { c.fanOutEvery, c.fanOutAge = every, olderThan }
}

// fanOutSweeper is a Deliverer that can fan out what is owed
// (*conversations.Service, *conversations.Worker).
type fanOutSweeper interface {
	FanOutOwed(ctx context.Context, olderThan time.Duration) (int, error)
}

// fanOutSweepArgs is the periodic job that runs the fan-out sweep.
type fanOutSweepArgs struct{}

func (fanOutSweepArgs) Kind() string { return "fieldtalk_fanout_sweep" }

type fanOutSweepWorker struct {
	river.WorkerDefaults[fanOutSweepArgs]
	o *Outbox
}

func (w *fanOutSweepWorker) Work(ctx context.Context, _ *river.Job[fanOutSweepArgs]) error {
	n, err := w.o.SweepFanOuts(ctx)
	if n > 0 || err != nil {
		w.o.cfg.log.InfoContext(ctx, "outbox: fan-out sweep", "messages", n, "error", err)
	}
	return err
}

// SweepFanOuts runs the fan-out sweep now, through the Deliverer Start was
// given, and returns how many owed fan-outs it took. The periodic job calls
// it; a host that turned the schedule off may call it itself. A Deliverer
// that cannot fan out owes nothing.
func (o *Outbox) SweepFanOuts(ctx context.Context) (int, error) {
	d := o.target.Load()
	if d == nil {
		return 0, nil
	}
	f, ok := d.Deliverer.(fanOutSweeper)
	if !ok {
		return 0, nil
	}
	total := 0
	for {
		n, err := f.FanOutOwed(ctx, o.cfg.fanOutAge)
		total += n
		// A full page may have more behind it.
		if err != nil || n < conversations.FanOutPage {
			return total, err
		}
	}
}

// fanOutJob is the sweep's schedule, nil when it is off.
func (c *config) fanOutJob() *river.PeriodicJob {
	if c.fanOutEvery < 0 {
		return nil
	}
	return river.NewPeriodicJob(river.PeriodicInterval(c.fanOutEvery),
		func() (river.JobArgs, *river.InsertOpts) {
			return fanOutSweepArgs{}, &river.InsertOpts{Queue: NotifyQueue, Priority: 4}
		}, &river.PeriodicJobOpts{RunOnStart: true})
}
