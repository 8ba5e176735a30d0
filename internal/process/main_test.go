package process_test

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-kit/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/orderflow/orderflow/internal/process"
	"github.com/orderflow/orderflow/internal/telemetry"
)

// exporter keeps the spans exported to it, as an OTLP collector would.
type exporter struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
}

func (e *exporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.spans = append(e.spans, spans...)
	return nil
}

func (e *exporter) Shutdown(context.Context) error { return nil }

func (e *exporter) GetSpans() []sdktrace.ReadOnlySpan {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.spans
}

// exported records the spans that reach the exporter.
func exported() (*exporter, *telemetry.Tracing) {
	exp := &exporter{}
	// A batcher that would hold the span for a minute: only the flush at
	// the end sends it.
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Minute)))
	return exp, telemetry.New(tp)
}

func TestAProcessThatFailsFlushesItsTracesAndExits1(t *testing.T) {
	exp, tracing := exported()
	code := process.Run(log.NewNopLogger(), tracing, func(ctx context.Context, _ log.Logger, tr *telemetry.Tracing) error {
		_, span := tr.Tracer("test").Start(ctx, "the last work")
		span.End()
		return errors.New("mongodb unreachable")
	})
	if code != 1 {
		t.Errorf("want exit code 1, have %d", code)
	}
	if n := len(exp.GetSpans()); n != 1 {
		t.Errorf("want the span flushed before the exit, have %d exported", n)
	}
}

func TestAProcessStoppedByASignalFlushesItsTracesAndExits0(t *testing.T) {
	exp, tracing := exported()
	code := process.Run(log.NewNopLogger(), tracing, func(ctx context.Context, _ log.Logger, tr *telemetry.Tracing) error {
		_, span := tr.Tracer("test").Start(ctx, "work")
		span.End()
		// A signal that comes before Run listens for it is lost: it is
		// sent until it is heard.
		for {
			_ = syscall.Kill(syscall.Getpid(), syscall.SIGUSR1)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(20 * time.Millisecond):
			}
		}
	}, syscall.SIGUSR1)
	if code != 0 {
		t.Errorf("want exit code 0, have %d", code)
	}
	if n := len(exp.GetSpans()); n != 1 {
		t.Errorf("want the span flushed before the exit, have %d exported", n)
	}
}
