package payment_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/kit/metrics"
	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/paymentsvc/payment"
)

// stubService answers every call with err.
type stubService struct{ err error }

func (s stubService) Charge(context.Context, payment.ChargeRequest) (payment.Payment, error) {
	return payment.Payment{}, s.err
}
func (s stubService) Refund(context.Context, payment.RefundRequest) (payment.Payment, error) {
	return payment.Payment{}, s.err
}

func TestTheLoggingMiddlewareLogsEachCallWithItsOrderAndError(t *testing.T) {
	var lines [][]any
	logger := log.LoggerFunc(func(keyvals ...any) error { lines = append(lines, keyvals); return nil })
	failure := errors.New("store unavailable")
	ctx := context.Background()

	_, _ = payment.LoggingMiddleware(logger)(stubService{}).Charge(ctx, payment.ChargeRequest{OrderID: "o1", CorrelationID: "c1"})
	_, _ = payment.LoggingMiddleware(logger)(stubService{err: failure}).Refund(ctx, payment.RefundRequest{OrderID: "o2", CorrelationID: "c2"})

	if len(lines) != 2 {
		t.Fatalf("want one line per call, have %v", lines)
	}
	for i, want := range []map[string]any{
		{"method": "Charge", "order_id": "o1", "correlation_id": "c1", "err": nil},
		{"method": "Refund", "order_id": "o2", "correlation_id": "c2", "err": failure},
	} {
		have := map[string]any{}
		for j := 0; j+1 < len(lines[i]); j += 2 {
			have[fmt.Sprint(lines[i][j])] = lines[i][j+1]
		}
		for k, v := range want {
			if hv, ok := have[k]; !ok || hv != v {
				t.Errorf("line %d: want %s=%v, have %v", i, k, v, lines[i])
			}
		}
		if _, ok := have["took"].(time.Duration); !ok {
			t.Errorf("line %d: want took as a duration, have %v", i, lines[i])
		}
	}
}

func TestTheInstrumentingMiddlewareCountsCallsByMethodAndError(t *testing.T) {
	requests, latency := newLabelled(), newLabelled()
	mw := payment.InstrumentingMiddleware(fakeCounter{sums: requests}, fakeHistogram{counts: latency})
	for _, lvs := range []string{"method=Charge,error=false", "method=Charge,error=true", "method=Refund,error=false", "method=Refund,error=true"} {
		if v, ok := requests.value(lvs); !ok || v != 0 {
			t.Errorf("before any call: want %s at 0, have %v (present: %v)", lvs, v, ok)
		}
	}

	ctx := context.Background()
	ok, failing := mw(stubService{}), mw(stubService{err: payment.ErrBusy})
	_, _ = ok.Charge(ctx, payment.ChargeRequest{})
	_, _ = ok.Charge(ctx, payment.ChargeRequest{})
	_, _ = failing.Charge(ctx, payment.ChargeRequest{})
	_, _ = failing.Refund(ctx, payment.RefundRequest{})

	for lvs, want := range map[string]float64{
		"method=Charge,error=false": 2,
		"method=Charge,error=true":  1,
		"method=Refund,error=false": 0,
		"method=Refund,error=true":  1,
	} {
		if have, _ := requests.value(lvs); have != want {
			t.Errorf("requests %s: want %v, have %v", lvs, want, have)
		}
		if have, _ := latency.value(lvs); have != want {
			t.Errorf("latency %s: want %v observations, have %v", lvs, want, have)
		}
	}
}

// labelled keeps a number per label set, for the fakes of metrics.
type labelled struct {
	mu     sync.Mutex
	values map[string]float64
}

func newLabelled() *labelled { return &labelled{values: map[string]float64{}} }

// key is "name=value,name=value" of the label values lvs.
func key(lvs []string) string {
	pairs := make([]string, 0, len(lvs)/2)
	for i := 0; i+1 < len(lvs); i += 2 {
		pairs = append(pairs, lvs[i]+"="+lvs[i+1])
	}
	return strings.Join(pairs, ",")
}

func (l *labelled) add(lvs []string, delta float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.values[key(lvs)] += delta
}

func (l *labelled) value(key string) (float64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.values[key]
	return v, ok
}

// fakeCounter is a metrics.Counter that keeps its sum per label set.
type fakeCounter struct {
	sums *labelled
	lvs  []string
}

func (c fakeCounter) With(lvs ...string) metrics.Counter {
	return fakeCounter{c.sums, append(slices.Clone(c.lvs), lvs...)}
}
func (c fakeCounter) Add(delta float64) { c.sums.add(c.lvs, delta) }

// fakeHistogram is a metrics.Histogram that counts its observations per
// label set.
type fakeHistogram struct {
	counts *labelled
	lvs    []string
}

func (h fakeHistogram) With(lvs ...string) metrics.Histogram {
	return fakeHistogram{h.counts, append(slices.Clone(h.lvs), lvs...)}
}
func (h fakeHistogram) Observe(float64) { h.counts.add(h.lvs, 1) }
