package twilio

import (
	"context"
	"net/url"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// traceContext carries a send's W3C trace context (traceparent,
// tracestate) in the query of its status-callback URL, so the callback,
// which Twilio makes without any trace header, continues the trace of the
// request that accepted the message: accept, queue, Twilio, status.
var traceContext = propagation.TraceContext{}

// injectTrace adds ctx's trace context, if any, to query.
func injectTrace(ctx context.Context, query url.Values) {
	carrier := propagation.MapCarrier{}
	traceContext.Inject(ctx, carrier)
	for k, v := range carrier {
		query.Set(k, v)
	}
}

// callbackTrace returns ctx with the trace context of the callback URL's
// query as the remote parent of what the callback does, and links the
// span already in ctx (the HTTP server's, if the host traces requests) to
// it. Without one in the query, ctx is returned as it is.
func callbackTrace(ctx context.Context, query url.Values) context.Context {
	carrier := propagation.MapCarrier{}
	for _, k := range traceContext.Fields() {
		if v := query.Get(k); v != "" {
			carrier[k] = v
		}
	}
	sc := trace.SpanContextFromContext(traceContext.Extract(context.Background(), carrier))
	if !sc.IsValid() {
		return ctx
	}
	trace.SpanFromContext(ctx).AddLink(trace.Link{SpanContext: sc})
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}
