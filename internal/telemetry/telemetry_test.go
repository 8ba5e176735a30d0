package telemetry

import (
	"context"
	"net/http"
	"net/http/httptest"
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

// With tracing off, a service still passes on the trace context a request
// brought: the next hop's spans join the caller's trace.
func TestWithTracingOffATraceContextIsPassedOn(t *testing.T) {
	var off *Tracing
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	var forwarded string
	next := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		forwarded = r.Header.Get("Traceparent")
	}))
	defer next.Close()
	client := &http.Client{Transport: off.Transport(http.DefaultTransport)}
	var seen string
	h := off.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = TraceID(r.Context())
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, next.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
	}), "test")

	r := httptest.NewRequest(http.MethodGet, "/orders", nil)
	r.Header.Set("Traceparent", parent)
	h.ServeHTTP(httptest.NewRecorder(), r)
	if seen != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("the handler sees trace %q", seen)
	}
	if forwarded != parent {
		t.Errorf("the next hop got traceparent %q, want %q", forwarded, parent)
	}

	forwarded = "unset"
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/orders", nil))
	if seen != "" || forwarded != "" {
		t.Errorf("a request with no trace context: handler saw %q, next hop got %q", seen, forwarded)
	}
}
