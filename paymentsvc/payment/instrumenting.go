package payment

import (
	"context"
	"strconv"
	"time"

	"github.com/go-kit/kit/metrics"
)

// InstrumentingMiddleware counts and times every call of the Service, with
// the labels "method" (Charge or Refund) and "error" (true or false).
// Every label set of requests is added to at once, by zero, so that each
// is exported before the first call.
func InstrumentingMiddleware(requests metrics.Counter, latency metrics.Histogram) Middleware {
	for _, method := range []string{"Charge", "Refund"} {
		for _, failed := range []bool{false, true} {
			requests.With("method", method, "error", strconv.FormatBool(failed)).Add(0)
		}
	}
	return func(next Service) Service {
		return &instrumentingMiddleware{next: next, requests: requests, latency: latency}
	}
}

type instrumentingMiddleware struct {
	next     Service
	requests metrics.Counter
	latency  metrics.Histogram
}

func (mw *instrumentingMiddleware) observe(method string, begin time.Time, err error) {
	lvs := []string{"method", method, "error", strconv.FormatBool(err != nil)}
	mw.requests.With(lvs...).Add(1)
	mw.latency.With(lvs...).Observe(time.Since(begin).Seconds())
}

func (mw *instrumentingMiddleware) Charge(ctx context.Context, r ChargeRequest) (p Payment, err error) {
	defer func(begin time.Time) { mw.observe("Charge", begin, err) }(time.Now())
	return mw.next.Charge(ctx, r)
}

func (mw *instrumentingMiddleware) Refund(ctx context.Context, r RefundRequest) (p Payment, err error) {
	defer func(begin time.Time) { mw.observe("Refund", begin, err) }(time.Now())
	return mw.next.Refund(ctx, r)
}
