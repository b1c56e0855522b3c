package store

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/fieldtalk/fieldtalk/conversations"
)

// WithTracerProvider traces the store's statement groups: one span per
// transaction (with the statements it runs inside it) and one per shaped
// read (the inbox, badge and history listings). The default traces nothing
// and costs nothing: no span is started at all.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) {
		if tp != nil {
			c.tracer = tp.Tracer(conversations.InstrumentationName + "/store")
		}
	}
}

// span starts a client span named name when the DB traces, and returns a
// function that ends it with err.
func (s *DB) span(ctx context.Context, name, query string) (context.Context, func(error)) {
	if s.cfg.tracer == nil {
		return ctx, func(error) {}
	}
	system := "sqlite"
	if s.pg() {
		system = "postgresql"
	}
	ctx, span := s.cfg.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient))
	if span.IsRecording() {
		span.SetAttributes(attribute.String("db.system.name", system))
		if query != "" {
			span.SetAttributes(attribute.String("db.query.text", query))
		}
	}
	return ctx, func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}
