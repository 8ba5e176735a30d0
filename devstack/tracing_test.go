package devstack_test

import (
	"slices"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/orderflow/orderflow/internal/objectid"
	"github.com/orderflow/orderflow/internal/telemetry"
	"github.com/orderflow/orderflow/internal/testenv"
)

// traceOf returns the names of the ended spans of the trace that the
// gateway's request with correlation id cid started.
func traceOf(rec *tracetest.SpanRecorder, cid string) []string {
	spans := rec.Ended()
	var id string
	for _, s := range spans {
		for _, a := range s.Attributes() {
			if a.Key == "correlation_id" && a.Value.AsString() == cid {
				id = s.SpanContext().TraceID().String()
			}
		}
	}
	var names []string
	for _, s := range spans {
		if id != "" && s.SpanContext().TraceID().String() == id {
			names = append(names, s.Name())
		}
	}
	return names
}

// One trace follows an order through every service: the gateway's
// request, ordersvc's call, the event to paymentsvc, and its answer back.
func TestOneTraceCoversAnOrdersWholeFlow(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	s := startTracedSystem(t, true, telemetry.New(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))))
	run := objectid.New() // ids of this run, should the test run again

	for _, tc := range []struct {
		cid, product, order, payment string
	}{
		{"trace-paid-" + run, "1", "Success", "Paid"},
		{"trace-declined-" + run, "2", "Failed", "Declined"},
	} {
		id := s.createOrder("u1", tc.product, "X-Request-Id", tc.cid)
		s.waitStatus(id, tc.order, tc.payment, settle)
		want := []string{"POST /orders", "ordersvc POST", "publish orders.created", "handle orders.created",
			"publish payments.processed", "handle payments.processed"}
		testenv.Eventually(t, settle, tc.cid+": the trace never covered the flow", func() bool {
			return containsAll(traceOf(rec, tc.cid), want)
		})
	}

	// The logs name the trace beside the correlation id, in every service.
	for _, svc := range []string{"gateway", "ordersvc", "paymentsvc"} {
		found := false
		for _, line := range strings.Split(s.logs.String(), "\n") {
			if strings.Contains(line, "svc="+svc+" ") && strings.Contains(line, "correlation_id=trace-paid-"+run) && strings.Contains(line, "trace_id="+traceIDOf(rec, "trace-paid-"+run)) {
				found = true
			}
		}
		if !found {
			t.Errorf("no line of %s names trace-paid's trace id beside its correlation id", svc)
		}
	}

	// A cancel's trace covers the refund.
	id := s.createOrder("u1", "1")
	s.waitStatus(id, "Success", "Paid", settle)
	if r := s.do("PUT", "/orders", `{"orderId":"`+id+`","orderStatus":"Cancelled"}`, "X-Request-Id", "trace-refund-"+run); r.status != 200 {
		t.Fatalf("cancel: %d %s", r.status, r.raw)
	}
	s.waitStatus(id, "Cancelled", "Refunded", settle)
	want := []string{"PUT /orders", "ordersvc PATCH", "publish orders.cancelled", "handle orders.cancelled",
		"publish payments.refunded", "handle payments.refunded"}
	testenv.Eventually(t, settle, "the cancel's trace never covered the refund", func() bool {
		return containsAll(traceOf(rec, "trace-refund-"+run), want)
	})
}

// traceIDOf returns the id of the trace the gateway's request with
// correlation id cid started.
func traceIDOf(rec *tracetest.SpanRecorder, cid string) string {
	for _, s := range rec.Ended() {
		for _, a := range s.Attributes() {
			if a.Key == "correlation_id" && a.Value.AsString() == cid {
				return s.SpanContext().TraceID().String()
			}
		}
	}
	return "(none)"
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
