package order

import (
	"context"
	"time"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/internal/correlation"
	"github.com/orderflow/orderflow/internal/telemetry"
)

// Middleware decorates a Service.
type Middleware func(Service) Service

// LoggingMiddleware logs every call of the API that changes something, and
// every read that failed, with how long it took and how it ended. Reads
// that succeed are only counted: clients poll.
func LoggingMiddleware(logger log.Logger) Middleware {
	return func(next Service) Service { return &loggingMiddleware{next: next, logger: logger} }
}

type loggingMiddleware struct {
	next   Service
	logger log.Logger
}

func (mw *loggingMiddleware) log(ctx context.Context, begin time.Time, method, orderID string, err error) {
	mw.logger.Log(append([]any{"method", method, "order_id", orderID, "correlation_id", correlation.FromContext(ctx), "took", time.Since(begin), "err", err}, telemetry.LogKeys(ctx)...)...)
}

func (mw *loggingMiddleware) CreateOrder(ctx context.Context, n NewOrder) (o Order, replayed bool, err error) {
	defer func(begin time.Time) { mw.log(ctx, begin, "CreateOrder", o.ID, err) }(time.Now())
	return mw.next.CreateOrder(ctx, n)
}

func (mw *loggingMiddleware) GetOrder(ctx context.Context, id string) (o Order, err error) {
	defer func(begin time.Time) {
		if err != nil {
			mw.log(ctx, begin, "GetOrder", id, err)
		}
	}(time.Now())
	return mw.next.GetOrder(ctx, id)
}

func (mw *loggingMiddleware) ListOrders(ctx context.Context, userID, cursor string, limit int) (p Page, err error) {
	defer func(begin time.Time) {
		if err == nil {
			return
		}
		mw.logger.Log("method", "ListOrders", "user_id", userID, "correlation_id", correlation.FromContext(ctx), "n", len(p.Orders), "took", time.Since(begin), "err", err)
	}(time.Now())
	return mw.next.ListOrders(ctx, userID, cursor, limit)
}

func (mw *loggingMiddleware) SetStatus(ctx context.Context, id string, to Status) (o Order, err error) {
	defer func(begin time.Time) { mw.log(ctx, begin, "SetStatus", id, err) }(time.Now())
	return mw.next.SetStatus(ctx, id, to)
}
