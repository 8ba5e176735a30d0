// Package telemetry traces the flow of an order across the services with
// OpenTelemetry: one trace runs from the gateway's request through ordersvc,
// Redis and paymentsvc, and back. Spans are exported only when the standard
// OTEL_EXPORTER_OTLP_ENDPOINT is set; the W3C trace context is carried in
// any case, over HTTP headers and inside event envelopes.
//
// A process's Tracing is made once, by main, and handed to what needs it:
// nothing here is process-wide, not even OpenTelemetry's global provider,
// so several services in one process (devstack) or one test binary each
// trace as they were given.
package telemetry

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Tracing is how a process traces: through a tracer provider, or not at
// all. A nil *Tracing is tracing off.
type Tracing struct {
	provider trace.TracerProvider
	shutdown func(context.Context) error
}

// Setup returns the tracing of service, exporting over OTLP/HTTP, when
// OTEL_EXPORTER_OTLP_ENDPOINT (or its _TRACES_ variant) is set. Without it,
// tracing is off (nil): spans cost nothing and get no ids, though a trace
// context that arrives is passed on.
func Setup(ctx context.Context, service string) (*Tracing, error) {
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return nil, nil
	}
	exporter, err := otlptracehttp.New(ctx) // reads the standard OTEL_EXPORTER_OTLP_* variables
	if err != nil {
		return nil, fmt.Errorf("OTLP exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(service)))
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	return &Tracing{provider: tp, shutdown: tp.Shutdown}, nil
}

// New returns tracing through tp, which its Shutdown shuts down: tests
// give one that records spans in memory.
func New(tp *sdktrace.TracerProvider) *Tracing {
	return &Tracing{provider: tp, shutdown: tp.Shutdown}
}

// Shutdown exports what is left and stops the provider Setup made.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.shutdown(ctx)
}

// Tracer returns the tracer of a package of this module: one that makes no
// spans when tracing is off, but keeps the trace context it is given.
func (t *Tracing) Tracer(name string) trace.Tracer {
	if t == nil {
		return noop.NewTracerProvider().Tracer(name)
	}
	return t.provider.Tracer("github.com/orderflow/orderflow/" + name)
}

// Handler returns h traced as service when tracing is on: otelhttp makes a
// span of each request that its options do not filter out. With tracing off
// it only passes on a trace context that arrives, and costs nothing more:
// otelhttp's work on every request (metric attributes above all) was about
// 7% of the gateway's and ordersvc's CPU, for spans nobody exports.
func (t *Tracing) Handler(h http.Handler, service string, opts ...otelhttp.Option) http.Handler {
	if t != nil {
		return otelhttp.NewHandler(h, service, append(opts, otelhttp.WithTracerProvider(t.provider), otelhttp.WithPropagators(propagation.TraceContext{}))...)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Traceparent") != "" {
			r = r.WithContext(propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header)))
		}
		h.ServeHTTP(w, r)
	})
}

// Transport returns base traced when tracing is on (otelhttp's client
// spans); with it off, it only passes on the trace context of a request
// that has one.
func (t *Tracing) Transport(base http.RoundTripper) http.RoundTripper {
	if t != nil {
		return otelhttp.NewTransport(base, otelhttp.WithTracerProvider(t.provider), otelhttp.WithPropagators(propagation.TraceContext{}))
	}
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		if trace.SpanContextFromContext(r.Context()).IsValid() {
			r = r.Clone(r.Context())
			propagation.TraceContext{}.Inject(r.Context(), propagation.HeaderCarrier(r.Header))
		}
		return base.RoundTrip(r)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TraceParent returns the W3C traceparent of ctx's span, or "" when it has
// none: what an event carries so that its handler continues the trace.
func TraceParent(ctx context.Context) string {
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	return carrier["traceparent"]
}

// WithTraceParent returns ctx continuing the trace of traceparent, when it
// is one.
func WithTraceParent(ctx context.Context, traceparent string) context.Context {
	if traceparent == "" {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
}

// LogKeys returns the trace_id key and value of ctx's trace for a log line,
// or nothing when it has none (tracing off).
func LogKeys(ctx context.Context) []any {
	if id := TraceID(ctx); id != "" {
		return []any{"trace_id", id}
	}
	return nil
}

// TraceID returns the id of ctx's trace, or "" when it has none, for log
// lines beside the correlation id.
func TraceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		return sc.TraceID().String()
	}
	return ""
}
