package telemetry

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestATraceParentCarriesTheTrace(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	ctx, span := tp.Tracer("test").Start(context.Background(), "work")
	defer span.End()
	id := TraceID(ctx)
	if len(id) != 32 {
		t.Fatalf("want a trace id, have %q", id)
	}
	parent := TraceParent(ctx)
	if got := TraceID(WithTraceParent(context.Background(), parent)); got != id {
		t.Errorf("traceparent %q continues trace %q, want %q", parent, got, id)
	}
	if kv := LogKeys(ctx); len(kv) != 2 || kv[1] != id {
		t.Errorf("want trace_id %s for the log, have %v", id, kv)
	}
	if kv := LogKeys(context.Background()); kv != nil {
		t.Errorf("no trace, no key: have %v", kv)
	}
	if TraceParent(context.Background()) != "" || WithTraceParent(context.Background(), "") == nil {
		t.Error("no span, no traceparent")
	}
}
