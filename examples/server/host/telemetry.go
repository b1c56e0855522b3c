package host

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/fx"

	"github.com/fieldtalk/fieldtalk/conversations"
	"github.com/fieldtalk/fieldtalk/notify/inapp"
)

// MetricsPath is where the server serves its metrics in the Prometheus
// exposition format. It carries no credentials, like /healthz: expose it
// to the scraper only (a private listener, a network policy).
const MetricsPath = "/metrics"

// MetricStreams is the number of open event streams on this instance.
const MetricStreams = "fieldtalk.stream.connections"

// Telemetry is the example's OpenTelemetry wiring: metrics through the SDK
// into a Prometheus registry of the server's own (served at MetricsPath),
// and traces to the trace.TracerProvider in the graph. That provider is the
// no-op one unless the host replaces it (fx.Decorate, or fx.Replace with an
// SDK provider and the exporter of its choice, OTLP to a collector for
// example); the library itself only ever sees the API.
func Telemetry() fx.Option {
	return fx.Options(
		fx.Provide(
			func() trace.TracerProvider { return tracenoop.NewTracerProvider() },
			newMeterProvider,
			fx.Annotate(newMetricsRoutes, fx.ResultTags(groupRouteSets)),
		),
		fx.Invoke(observeStreams),
	)
}

// metrics is the meter provider and the registry its exporter feeds.
type metrics struct {
	provider *sdkmetric.MeterProvider
	registry *prometheus.Registry
}

func newMeterProvider(lc fx.Lifecycle) (metric.MeterProvider, *metrics, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exp, err := otelprom.New(otelprom.WithRegisterer(reg),
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes))
	if err != nil {
		return nil, nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	lc.Append(fx.Hook{OnStop: mp.Shutdown})
	return mp, &metrics{provider: mp, registry: reg}, nil
}

func newMetricsRoutes(m *metrics) []Route {
	return []Route{{"GET " + MetricsPath, promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})}}
}

// observeStreams reports the hub's open streams when the meter collects.
func observeStreams(mp metric.MeterProvider, hub *inapp.Hub) error {
	m := mp.Meter(conversations.InstrumentationName + "/host")
	g, err := m.Int64ObservableGauge(MetricStreams, metric.WithUnit("{connection}"),
		metric.WithDescription("Event streams this instance is feeding."))
	if err != nil {
		return err
	}
	_, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(g, int64(hub.Connections()))
		return nil
	}, g)
	return err
}

// instrumented is h with a server span and the HTTP semantic-convention
// metrics (http.server.request.duration, by route and status) per request,
// named by the route's pattern.
func instrumented(h http.Handler, tp trace.TracerProvider, mp metric.MeterProvider) http.Handler {
	return otelhttp.NewHandler(h, "http.server",
		otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp), otelhttp.WithPropagators(propagation.TraceContext{}),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if r.Pattern != "" {
				return r.Pattern
			}
			return r.Method
		}))
}

// providerClient is the HTTP client the provider adapters call out with:
// each call a client span whose trace context travels in its headers.
func providerClient(tp trace.TracerProvider, mp metric.MeterProvider) *http.Client {
	return &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport,
		otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp), otelhttp.WithPropagators(propagation.TraceContext{}))}
}
