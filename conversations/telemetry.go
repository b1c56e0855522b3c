package conversations

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// Telemetry: the Service traces each use case and counts what an operator
// watches, through the OpenTelemetry API only. The host chooses the SDK and
// the exporters and hands their providers in (Config.TracerProvider,
// Config.MeterProvider); with none, no span is started and nothing is
// measured, so an unobserved Service costs what it did without telemetry.

// InstrumentationName names the tracer and meter of the library's packages.
const InstrumentationName = "github.com/fieldtalk/fieldtalk"

// Metric names, in OpenTelemetry's naming conventions (a Prometheus
// exporter turns "fieldtalk.inbound.messages" into
// fieldtalk_inbound_messages_total, and a duration in seconds into
// ..._seconds).
const (
	MetricInbound          = "fieldtalk.inbound.messages"    // {message}; channel
	MetricDeliveryAttempts = "fieldtalk.delivery.attempts"   // {attempt}; channel, outcome (done, later, retry, error)
	MetricDeliveries       = "fieldtalk.deliveries"          // {message}; channel, status (sent, delivered, undelivered, failed), error.code
	MetricDeliveryDuration = "fieldtalk.delivery.duration"   // s, from acceptance to sent or delivered; channel, status
	MetricNotifications    = "fieldtalk.notifications"       // {notification}; type (message, status, read, badge)
	MetricSuggestDuration  = "fieldtalk.suggestion.duration" // s; source (rules, llm, ...; error when none came)
	MetricOptOuts          = "fieldtalk.opt_outs"            // {change}; channel, action (opt_out, opt_in), keyword
)

// Attribute keys. Metrics carry short, bounded labels (a Prometheus query
// reads channel="sms"); spans carry the ids of what they worked on.
const (
	attrChannel = attribute.Key("channel")
	attrOutcome = attribute.Key("outcome")
	attrStatus  = attribute.Key("status")
	attrType    = attribute.Key("type")
	attrSource  = attribute.Key("source")
	attrAction  = attribute.Key("action")
	attrKeyword = attribute.Key("keyword")
	attrErrCode = attribute.Key("error.code")

	attrTenant  = attribute.Key("fieldtalk.tenant")
	attrThread  = attribute.Key("fieldtalk.thread")
	attrMessage = attribute.Key("fieldtalk.message")
	attrAttempt = attribute.Key("fieldtalk.delivery.attempt")
)

// telemetry is the Service's tracer and instruments. Without a provider
// the tracer is nil and measured false: no span is started and no
// measurement built (an attribute set allocates even for a no-op meter).
type telemetry struct {
	tracer        trace.Tracer
	measured      bool
	inbound       metric.Int64Counter
	attempts      metric.Int64Counter
	deliveries    metric.Int64Counter
	deliveryTime  metric.Float64Histogram
	notifications metric.Int64Counter
	suggestTime   metric.Float64Histogram
	optOuts       metric.Int64Counter
}

// latencyBuckets suit a delivery (seconds to minutes) and a suggestion
// (milliseconds to the budget) alike.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}

// noSpan is what start returns when nothing traces: ending it does nothing
// (and, unlike the span in ctx, it is not the caller's to end).
var noSpan trace.Span = tracenoop.Span{}

func newTelemetry(tp trace.TracerProvider, mp metric.MeterProvider) (telemetry, error) {
	var t telemetry
	if tp != nil {
		t.tracer = tp.Tracer(InstrumentationName)
	}
	if mp == nil {
		mp = metricnoop.NewMeterProvider()
	} else {
		t.measured = true
	}
	m := mp.Meter(InstrumentationName)
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	seconds := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(latencyBuckets...))
		errs = append(errs, err)
		return h
	}
	t.inbound = counter(MetricInbound, "{message}", "Customer messages received, by channel (repeats of a webhook not counted).")
	t.attempts = counter(MetricDeliveryAttempts, "{attempt}", "Delivery attempts by channel and outcome: done (the provider took it, or it is final), later (a status check or pacing slot not due yet), retry (the queue tries again), error.")
	t.deliveries = counter(MetricDeliveries, "{message}", "Outbound messages reaching a delivery status, by channel and status; failures carry the provider's error code.")
	t.deliveryTime = seconds(MetricDeliveryDuration, "Time from accepting an outbound message to its sent or delivered status.")
	t.notifications = counter(MetricNotifications, "{notification}", "Notifications handed to the Notifier, by type.")
	t.suggestTime = seconds(MetricSuggestDuration, "Time to get reply suggestions from the Suggester, by the source that answered.")
	t.optOuts = counter(MetricOptOuts, "{change}", "Opt-out ledger changes: STOP (opt_out) and START (opt_in), by keyword.")
	if err := errors.Join(errs...); err != nil {
		return telemetry{}, Invalid("config.meter_provider", err.Error())
	}
	return t, nil
}

// start begins the span of a use case. Attributes are built only when the
// span records, so an unobserved call allocates nothing for them.
func (t *telemetry) start(ctx context.Context, name string, kind trace.SpanKind, attrs ...func() []attribute.KeyValue) (context.Context, trace.Span) {
	if t.tracer == nil {
		return ctx, noSpan
	}
	ctx, span := t.tracer.Start(ctx, name, trace.WithSpanKind(kind))
	if span.IsRecording() {
		for _, a := range attrs {
			span.SetAttributes(a()...)
		}
	}
	return ctx, span
}

// end ends span with err's outcome. A refusal (bad input, not found,
// forbidden, conflict, opted out) is the caller's doing and leaves the
// span's status unset; anything else is an error.
func end(span trace.Span, err error) {
	if err != nil && span.IsRecording() {
		span.RecordError(err)
		if !isRefusal(err) {
			span.SetStatus(codes.Error, err.Error())
		}
	}
	span.End()
}

func isRefusal(err error) bool {
	for _, e := range []error{ErrInvalid, ErrNotFound, ErrForbidden, ErrConflict, ErrOptedOut} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (a DeliverAttempt) attributes() []attribute.KeyValue {
	return []attribute.KeyValue{attrTenant.String(string(a.Tenant)), attrMessage.String(string(a.Message)), attrAttempt.Int(a.Attempt)}
}

// delivered ends a delivery attempt's span and counts the attempt (an
// attempt that found nothing to deliver has no channel and is not counted).
func (t *telemetry) delivered(ctx context.Context, span trace.Span, channel string, err error) {
	if channel != "" && t.measured {
		t.attemptDone(ctx, channel, err)
	}
	end(span, err)
}

// send is the provider call of a delivery, in a client span.
func (t *telemetry) send(ctx context.Context, ch Channel, out Outbound) (Receipt, error) {
	ctx, span := t.start(ctx, "send "+ch.Name(), trace.SpanKindClient, func() []attribute.KeyValue {
		return []attribute.KeyValue{attrChannel.String(ch.Name()), attrMessage.String(string(out.Message))}
	})
	r, err := ch.Send(ctx, out)
	if err == nil && span.IsRecording() {
		span.SetAttributes(attribute.String("messaging.message.id", r.ProviderID))
	}
	end(span, err)
	return r, err
}

// find is the provider lookup of an earlier attempt, in a client span.
func (t *telemetry) find(ctx context.Context, f Finder, channel string, out Outbound, since time.Time) (Receipt, error) {
	ctx, span := t.start(ctx, "find "+channel, trace.SpanKindClient, func() []attribute.KeyValue {
		return []attribute.KeyValue{attrChannel.String(channel), attrMessage.String(string(out.Message))}
	})
	r, err := f.Find(ctx, out, since)
	end(span, err)
	return r, err
}

// attemptDone counts one delivery attempt by its outcome.
func (t *telemetry) attemptDone(ctx context.Context, channel string, err error) {
	outcome := "done"
	var re *RetryError
	var later *Later
	switch {
	case err == nil:
	case errors.As(err, &later) && later.Accepted:
	case errors.As(err, &later):
		outcome = "later"
	case errors.As(err, &re):
		outcome = "retry"
	default:
		outcome = "error"
	}
	t.attempts.Add(ctx, 1, metric.WithAttributes(attrChannel.String(channel), attrOutcome.String(outcome)))
}

// statusChanged counts an outbound message reaching m.Status, and how long
// it took from acceptance to sent or delivered.
func (t *telemetry) statusChanged(ctx context.Context, m Message) {
	if !t.measured || m.Direction != DirectionOutbound {
		return
	}
	switch m.Status {
	case StatusSent, StatusDelivered:
		at := m.SentAt
		if m.Status == StatusDelivered {
			at = m.DeliveredAt
		}
		t.deliveries.Add(ctx, 1, metric.WithAttributes(attrChannel.String(m.Channel), attrStatus.String(string(m.Status))))
		if !at.IsZero() && !m.CreatedAt.IsZero() {
			t.deliveryTime.Record(ctx, max(at.Sub(m.CreatedAt), 0).Seconds(),
				metric.WithAttributes(attrChannel.String(m.Channel), attrStatus.String(string(m.Status))))
		}
	case StatusUndelivered, StatusFailed, StatusUnknown:
		t.deliveries.Add(ctx, 1, metric.WithAttributes(attrChannel.String(m.Channel), attrStatus.String(string(m.Status)),
			attrErrCode.String(m.ErrorCode)))
	}
}

// suggested records how long the Suggester took, by the source of its
// first suggestion ("error" when it gave none).
func (t *telemetry) suggested(ctx context.Context, start time.Time, ss []Suggestion, err error) {
	if !t.measured {
		return
	}
	source := "error"
	if err == nil && len(ss) > 0 && ss[0].Source != "" {
		source = ss[0].Source
	}
	t.suggestTime.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(attrSource.String(source)))
}

// received counts a new inbound message and, when it is an opt-out
// keyword, the ledger change it made.
func (t *telemetry) received(ctx context.Context, m Message, isKeyword bool, keyword string, out bool) {
	if !t.measured {
		return
	}
	t.inbound.Add(ctx, 1, metric.WithAttributes(attrChannel.String(m.Channel)))
	if isKeyword {
		t.optOut(ctx, m.Channel, keyword, out)
	}
}

// notify hands n to the Notifier (in-app stream, push services) in a
// client span, and counts it.
func (t *telemetry) notify(ctx context.Context, nt Notifier, ns []Notification) error {
	if t.measured {
		for _, n := range ns {
			t.notifications.Add(ctx, 1, metric.WithAttributes(attrType.String(string(n.Type))))
		}
	}
	name := "notify"
	if len(ns) == 1 {
		name += " " + string(ns[0].Type)
	}
	ctx, span := t.start(ctx, name, trace.SpanKindClient)
	err := NotifyBatch(ctx, nt, ns)
	end(span, err)
	return err
}

// suggest asks the Suggester (rules, or a model) in a client span.
func (t *telemetry) suggest(ctx context.Context, sg Suggester, req SuggestRequest) ([]Suggestion, error) {
	ctx, span := t.start(ctx, "suggest", trace.SpanKindClient)
	ss, err := sg.Suggest(ctx, req)
	end(span, err)
	return ss, err
}

// optOut counts a change of the opt-out ledger.
func (t *telemetry) optOut(ctx context.Context, channel, keyword string, out bool) {
	if !t.measured {
		return
	}
	action := "opt_in"
	if out {
		action = "opt_out"
	}
	t.optOuts.Add(ctx, 1, metric.WithAttributes(attrChannel.String(channel), attrAction.String(action), attrKeyword.String(keyword)))
}
