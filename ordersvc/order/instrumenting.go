package order

import (
	"context"
	"strconv"
	"time"

	"github.com/go-kit/kit/metrics"
)

// InstrumentingMiddleware counts and times every call of the API, by method
// and by whether it failed.
func InstrumentingMiddleware(requests metrics.Counter, latency metrics.Histogram) Middleware {
	// Every series exists from the start, so a rate over it is defined
	// before the first call.
	for _, method := range []string{"CreateOrder", "GetOrder", "ListOrders", "SetStatus"} {
		for _, failed := range []string{"false", "true"} {
			requests.With("method", method, "error", failed).Add(0)
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

func (mw *instrumentingMiddleware) CreateOrder(ctx context.Context, n NewOrder) (o Order, replayed bool, err error) {
	defer func(begin time.Time) { mw.observe("CreateOrder", begin, err) }(time.Now())
	return mw.next.CreateOrder(ctx, n)
}

func (mw *instrumentingMiddleware) GetOrder(ctx context.Context, id string) (o Order, err error) {
	defer func(begin time.Time) { mw.observe("GetOrder", begin, err) }(time.Now())
	return mw.next.GetOrder(ctx, id)
}

func (mw *instrumentingMiddleware) ListOrders(ctx context.Context, userID, cursor string, limit int) (p Page, err error) {
	defer func(begin time.Time) { mw.observe("ListOrders", begin, err) }(time.Now())
	return mw.next.ListOrders(ctx, userID, cursor, limit)
}

func (mw *instrumentingMiddleware) SetStatus(ctx context.Context, id string, to Status) (o Order, err error) {
	defer func(begin time.Time) { mw.observe("SetStatus", begin, err) }(time.Now())
	return mw.next.SetStatus(ctx, id, to)
}
