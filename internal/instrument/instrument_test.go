package instrument_test

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

	"github.com/orderflow/orderflow/internal/correlation"
	"github.com/orderflow/orderflow/internal/instrument"
)

type request struct{ id string }

func (r request) Keyvals() []any { return []any{"order_id", r.id} }

type response struct {
	status string
	err    error
}

func (r response) Keyvals() []any { return []any{"state", r.status} }
func (r response) Failed() error  { return r.err }

// answer is an endpoint that answers with a response carrying err, or,
// when broken, fails itself.
func answer(err error, broken bool) func(context.Context, any) (any, error) {
	return func(_ context.Context, req any) (any, error) {
		if broken {
			return nil, err
		}
		return response{status: "Paid", err: err}, nil
	}
}

func TestEachCallIsOneLineWithWhatItIsAboutAndHowItEnded(t *testing.T) {
	var lines []map[string]any
	logger := log.LoggerFunc(func(keyvals ...any) error {
		m := map[string]any{}
		for i := 0; i+1 < len(keyvals); i += 2 {
			m[fmt.Sprint(keyvals[i])] = keyvals[i+1]
		}
		lines = append(lines, m)
		return nil
	})
	notFound, down := errors.New("order not found"), errors.New("store unavailable")
	ctx := correlation.NewContext(context.Background(), "c1")
	_, _ = instrument.Logging(logger, "ApplyPayment", false)(answer(nil, false))(ctx, request{"o1"})
	_, _ = instrument.Logging(logger, "GetOrder", false)(answer(notFound, false))(ctx, request{"o2"})
	_, _ = instrument.Logging(logger, "Charge", false)(answer(down, true))(context.Background(), request{"o3"})

	want := []map[string]any{
		{"method": "ApplyPayment", "order_id": "o1", "state": "Paid", "correlation_id": "c1", "err": nil},
		{"method": "GetOrder", "order_id": "o2", "state": "Paid", "correlation_id": "c1", "err": notFound},
		{"method": "Charge", "order_id": "o3", "err": down},
	}
	if len(lines) != len(want) {
		t.Fatalf("want one line per call, have %v", lines)
	}
	for i, w := range want {
		for k, v := range w {
			if hv, ok := lines[i][k]; !ok || hv != v {
				t.Errorf("line %d: want %s=%v, have %v", i, k, v, lines[i])
			}
		}
		if _, ok := lines[i]["took"].(time.Duration); !ok {
			t.Errorf("line %d: want took as a duration, have %v", i, lines[i])
		}
	}
}

func TestAQuietMethodIsLoggedOnlyWhenItFails(t *testing.T) {
	var n int
	logger := log.LoggerFunc(func(...any) error { n++; return nil })
	quiet := instrument.Logging(logger, "GetOrder", true)
	_, _ = quiet(answer(nil, false))(context.Background(), request{"o1"})
	if n != 0 {
		t.Errorf("a quiet call that succeeded: want no line, have %d", n)
	}
	_, _ = quiet(answer(errors.New("no"), false))(context.Background(), request{"o1"})
	if n != 1 {
		t.Errorf("a quiet call that failed: want a line, have %d", n)
	}
}

func TestCallsAreCountedAndTimedByMethodAndFailure(t *testing.T) {
	requests, latency := newLabelled(), newLabelled()
	mw := instrument.Middlewares(log.NewNopLogger(), fakeCounter{sums: requests}, fakeHistogram{counts: latency})
	charge, refund := mw("Charge"), mw("Refund")
	for _, lvs := range []string{"method=Charge,error=false", "method=Charge,error=true", "method=Refund,error=false", "method=Refund,error=true"} {
		if v, ok := requests.value(lvs); !ok || v != 0 {
			t.Errorf("before any call: want %s at 0, have %v (present: %v)", lvs, v, ok)
		}
	}
	ctx, busy := context.Background(), errors.New("busy")
	_, _ = charge(answer(nil, false))(ctx, request{})
	_, _ = charge(answer(nil, false))(ctx, request{})
	_, _ = charge(answer(busy, false))(ctx, request{}) // a business error
	_, _ = refund(answer(busy, true))(ctx, request{})  // the endpoint's own
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
