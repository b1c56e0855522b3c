package outbox

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// Metric names of the queue, in OpenTelemetry's conventions.
const (
	MetricQueueDepth     = "fieldtalk.queue.depth"      // {job}; state (available, scheduled, retryable, running)
	MetricQueueOldestAge = "fieldtalk.queue.oldest_age" // s: how long the oldest due job has waited; state
)

// WithTracerProvider traces the queue: a span for each enqueue and each job
// worked (River's own, from otelriver), and the trace of the request that
// enqueued a delivery continues in its job, so one trace shows a message
// from the request that accepted it to the provider's answer. The default
// traces nothing.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tracerProvider = tp }
}

// WithMeterProvider measures the queue: River's job counts and durations
// (otelriver, in the messaging semantic conventions) and, read from the
// job table when the meter collects, the depth of the delivery queue by
// state and the age of its oldest due job. The default measures nothing.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.meterProvider = mp }
}

// middleware is River's middleware for the options set: none when neither
// traces nor metrics are wanted.
func (c *config) middleware() []rivertype.Middleware {
	if c.tracerProvider == nil && c.meterProvider == nil {
		return nil
	}
	return []rivertype.Middleware{
		// First, so that otelriver's work span starts inside the trace it restores.
		&continueTrace{},
		otelriver.NewMiddleware(&otelriver.MiddlewareConfig{
			EnableSemanticMetrics:       true,
			EnableTracePropagation:      true,
			EnableWorkSpanJobKindSuffix: true,
			TracerProvider:              c.tracerProvider,
			MeterProvider:               c.meterProvider,
		}),
	}
}

// continueTrace makes a job's work part of the trace that enqueued it.
// otelriver writes the enqueuing span's W3C trace context into the job's
// metadata and, by default, only links the work span to it; a delivery is
// the second half of the request that accepted its message, so it becomes
// its child instead, and one trace runs from the request to the provider.
type continueTrace struct{ river.MiddlewareDefaults }

func (*continueTrace) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	var meta map[string]any
	if len(job.Metadata) > 0 && json.Unmarshal(job.Metadata, &meta) == nil {
		carrier := propagation.MapCarrier{}
		for _, k := range (propagation.TraceContext{}).Fields() {
			if v, ok := meta[k].(string); ok {
				carrier[k] = v
			}
		}
		ctx = propagation.TraceContext{}.Extract(ctx, carrier)
	}
	return doInner(ctx)
}

// observeQueue reports the queue's depth and oldest due job when the meter
// collects: one grouped query over River's job table per collection.
func (o *Outbox) observeQueue(mp metric.MeterProvider) error {
	m := mp.Meter(conversations.InstrumentationName + "/outbox")
	depth, err := m.Int64ObservableGauge(MetricQueueDepth, metric.WithUnit("{job}"),
		metric.WithDescription("Delivery jobs in the queue, by state."))
	if err != nil {
		return fmt.Errorf("outbox: metrics: %w", err)
	}
	age, err := m.Float64ObservableGauge(MetricQueueOldestAge, metric.WithUnit("s"),
		metric.WithDescription("How long the oldest due delivery job of each state has waited since it became due (0 when none)."))
	if err != nil {
		return fmt.Errorf("outbox: metrics: %w", err)
	}
	_, err = m.RegisterCallback(func(ctx context.Context, obs metric.Observer) error {
		states, err := o.queueStates(ctx)
		if err != nil {
			return err
		}
		for _, st := range states {
			attrs := metric.WithAttributes(attribute.String("state", st.state))
			obs.ObserveInt64(depth, st.jobs, attrs)
			obs.ObserveFloat64(age, st.oldestAge, attrs)
		}
		return nil
	}, depth, age)
	if err != nil {
		return fmt.Errorf("outbox: metrics: %w", err)
	}
	return nil
}

type queueState struct {
	state     string
	jobs      int64
	oldestAge float64 // seconds
}

// queueStates counts the queue's unfinished jobs by state, every state
// reported (0 when empty) so a dashboard's series do not vanish.
func (o *Outbox) queueStates(ctx context.Context) ([]queueState, error) {
	q := `SELECT state, count(*), coalesce(max(extract(epoch FROM now() - scheduled_at)) FILTER (WHERE scheduled_at <= now()), 0)::float8
		FROM river_job WHERE queue = $1 AND state IN ('available', 'scheduled', 'retryable', 'running') GROUP BY state`
	if o.listener == nil { // SQLite: River keeps its times as UTC text
		q = `SELECT state, count(*), coalesce(max(CASE WHEN scheduled_at <= datetime('now', 'subsec')
			THEN (julianday('now') - julianday(scheduled_at)) * 86400.0 END), 0)
		FROM river_job WHERE queue = ? AND state IN ('available', 'scheduled', 'retryable', 'running') GROUP BY state`
	}
	rows, err := o.db.SQL().QueryContext(ctx, q, Queue)
	if err != nil {
		return nil, fmt.Errorf("outbox: queue depth: %w", err)
	}
	defer rows.Close()
	out := []queueState{{state: "available"}, {state: "scheduled"}, {state: "retryable"}, {state: "running"}}
	for rows.Next() {
		var st queueState
		if err := rows.Scan(&st.state, &st.jobs, &st.oldestAge); err != nil {
			return nil, fmt.Errorf("outbox: queue depth: %w", err)
		}
		for i := range out {
			if out[i].state == st.state {
				out[i] = st
			}
		}
	}
	return out, rows.Err()
}
