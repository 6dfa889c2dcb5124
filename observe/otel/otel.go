// Package otel traces what cloudswitch does with OpenTelemetry: a
// cloudswitch.Observer that opens a span per switch (or Resume) and a child
// span per stage, records retries and orphans as span events, and marks
// failed stages and switches with an error status.
//
//	obs := otel.NewObserver(otelglobal.GetTracerProvider())
//	sw, err := cloudswitch.New(store, drivers, cloudswitch.WithObserver(obs))
//
// Span names are "cloudswitch.switch", "cloudswitch.resume" and
// "cloudswitch.<stage>" (cloudswitch.deprovision, …). Attributes carry the
// workspace and intent ids, providers, instance ids and the outcome; errors
// are already redacted by cloudswitch, so no credential reaches a span.
package otel

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/cloudswitch/cloudswitch"
)

// InstrumentationName is the name of the tracer the Observer uses.
const InstrumentationName = "github.com/cloudswitch/cloudswitch/observe/otel"

// Observer is a cloudswitch.Observer that records traces. It is safe for
// concurrent use.
type Observer struct {
	cloudswitch.NopObserver
	tracer trace.Tracer
}

var _ cloudswitch.Observer = (*Observer)(nil)

// NewObserver returns an Observer whose spans go to tp's tracer; a nil tp
// records nothing (a no-op tracer).
func NewObserver(tp trace.TracerProvider) *Observer {
	if tp == nil {
		return &Observer{tracer: noop.NewTracerProvider().Tracer(InstrumentationName)}
	}
	return &Observer{tracer: tp.Tracer(InstrumentationName)}
}

// SwitchStarted opens the switch's span.
func (o *Observer) SwitchStarted(ctx context.Context, e cloudswitch.SwitchEvent) context.Context {
	name := "cloudswitch.switch"
	if e.Resumed {
		name = "cloudswitch.resume"
	}
	ctx, _ = o.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attribute.String("cloudswitch.workspace", e.WorkspaceID)))
	return ctx
}

// SwitchEnded closes the switch's span with its outcome.
func (o *Observer) SwitchEnded(ctx context.Context, e cloudswitch.SwitchEvent) {
	span := trace.SpanFromContext(ctx)
	attrs := []attribute.KeyValue{attribute.String("cloudswitch.outcome", string(e.Outcome))}
	if e.IntentID != "" {
		attrs = append(attrs, attribute.String("cloudswitch.intent", e.IntentID))
	}
	if e.From != "" {
		attrs = append(attrs, attribute.String("cloudswitch.from", e.From))
	}
	if e.To != "" {
		attrs = append(attrs, attribute.String("cloudswitch.to", e.To))
	}
	if e.Strategy != "" {
		attrs = append(attrs, attribute.String("cloudswitch.strategy", string(e.Strategy)))
	}
	span.SetAttributes(attrs...)
	if failed(e.Outcome) {
		span.RecordError(e.Err)
		span.SetStatus(codes.Error, errText(e.Err))
	}
	span.End()
}

// failed reports whether an outcome means the switch did not do what was
// asked. A rejected request is the caller's error, not the switch's.
func failed(o cloudswitch.Outcome) bool {
	return o == cloudswitch.OutcomeAborted || o == cloudswitch.OutcomeIncomplete
}

// StageStarted opens a child span for the stage.
func (o *Observer) StageStarted(ctx context.Context, e cloudswitch.StageEvent) context.Context {
	attrs := []attribute.KeyValue{attribute.String("cloudswitch.workspace", e.WorkspaceID)}
	if e.IntentID != "" {
		attrs = append(attrs, attribute.String("cloudswitch.intent", e.IntentID))
	}
	if e.Provider != "" {
		attrs = append(attrs, attribute.String("cloudswitch.provider", e.Provider))
	}
	ctx, _ = o.tracer.Start(ctx, "cloudswitch."+string(e.Stage), trace.WithAttributes(attrs...))
	return ctx
}

// StageEnded closes the stage's span.
func (o *Observer) StageEnded(ctx context.Context, e cloudswitch.StageEvent) {
	span := trace.SpanFromContext(ctx)
	if e.InstanceID != "" {
		span.SetAttributes(attribute.String("cloudswitch.instance", e.InstanceID))
	}
	if e.Attempts > 0 {
		span.SetAttributes(attribute.Int("cloudswitch.attempts", e.Attempts))
	}
	if e.Err != nil {
		span.RecordError(e.Err)
		span.SetStatus(codes.Error, errText(e.Err))
	}
	span.End()
}

// Retried adds a "retry" event to the stage's span.
func (o *Observer) Retried(ctx context.Context, e cloudswitch.RetryEvent) {
	trace.SpanFromContext(ctx).AddEvent("retry", trace.WithAttributes(
		attribute.Int("cloudswitch.attempt", e.Attempt),
		attribute.String("cloudswitch.wait", e.Wait.String()),
		attribute.String("cloudswitch.error", errText(e.Err)),
	))
}

// OrphanFound adds an "orphan" event to the span in ctx, if any (the
// caller's span around Reconcile).
func (o *Observer) OrphanFound(ctx context.Context, e cloudswitch.OrphanEvent) {
	trace.SpanFromContext(ctx).AddEvent("orphan", trace.WithAttributes(
		attribute.String("cloudswitch.provider", e.Instance.Provider),
		attribute.String("cloudswitch.instance", e.Instance.ID),
		attribute.String("cloudswitch.workspace", e.Instance.WorkspaceID),
		attribute.String("cloudswitch.reason", e.Reason),
		attribute.Bool("cloudswitch.deleted", e.Deleted),
	))
}

// Reconciled adds a "reconciled" event with the pass's counts to the span in
// ctx, if any.
func (o *Observer) Reconciled(ctx context.Context, e cloudswitch.ReconcileEvent) {
	trace.SpanFromContext(ctx).AddEvent("reconciled", trace.WithAttributes(
		attribute.Int("cloudswitch.instances", e.Instances),
		attribute.Int("cloudswitch.orphans", e.Orphans),
		attribute.Int("cloudswitch.deleted", e.Deleted),
		attribute.Int("cloudswitch.dangling", e.Dangling),
		attribute.Int("cloudswitch.pending", e.Pending),
		attribute.Int("cloudswitch.resumed", e.Resumed),
		attribute.Int("cloudswitch.errors", e.Errors),
	))
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
