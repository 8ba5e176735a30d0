// Package telemetry traces the flow of an order across the services with
// OpenTelemetry: one trace runs from the gateway's request through ordersvc,
// Redis and paymentsvc, and back. Spans are exported only when the standard
// OTEL_EXPORTER_OTLP_ENDPOINT is set; the W3C trace context is carried in
// any case, over HTTP headers and inside event envelopes.
package telemetry

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// Setup installs the process's tracer provider for service, exporting over
// OTLP/HTTP, when OTEL_EXPORTER_OTLP_ENDPOINT (or its _TRACES_ variant) is
// set. Without it, tracing stays off: spans cost nothing and get no ids,
// though a trace context that arrives is passed on. It returns the function
// that flushes and stops the provider.
func Setup(ctx context.Context, service string) (shutdown func(context.Context) error, err error) {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return func(context.Context) error { return nil }, nil
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
	Install(tp)
	return tp.Shutdown, nil
}

// tracing is true once Install has run.
var tracing atomic.Bool

// Install makes tp the process's tracer provider and turns on the HTTP
// instrumentation of the Handlers and Transports made from then on. Setup
// calls it; tests call it with a provider that records spans in memory.
func Install(tp trace.TracerProvider) {
	otel.SetTracerProvider(tp)
	tracing.Store(true)
}

// Handler returns h traced as service when tracing is on: otelhttp makes a
// span of each request that its options do not filter out. With tracing off
// it only passes on a trace context that arrives, and costs nothing more:
// otelhttp's work on every request (metric attributes above all) was about
// 7% of the gateway's and ordersvc's CPU, for spans nobody exports.
func Handler(h http.Handler, service string, opts ...otelhttp.Option) http.Handler {
	if tracing.Load() {
		return otelhttp.NewHandler(h, service, opts...)
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
func Transport(base http.RoundTripper) http.RoundTripper {
	if tracing.Load() {
		return otelhttp.NewTransport(base)
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

// Tracer returns the tracer of a package of this module.
func Tracer(name string) trace.Tracer { return otel.Tracer("github.com/orderflow/orderflow/" + name) }

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
