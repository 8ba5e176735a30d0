package payment

import (
	"context"
	"time"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/internal/telemetry"
)

// Middleware decorates a Service.
type Middleware func(Service) Service

// LoggingMiddleware logs every call of the Service as one line: the method,
// order_id, correlation_id, how long it took and how it ended (err).
func LoggingMiddleware(logger log.Logger) Middleware {
	return func(next Service) Service { return &loggingMiddleware{next: next, logger: logger} }
}

type loggingMiddleware struct {
	next   Service
	logger log.Logger
}

func (mw *loggingMiddleware) log(ctx context.Context, method, orderID, correlationID string, begin time.Time, err error) {
	mw.logger.Log(append([]any{"method", method, "order_id", orderID, "correlation_id", correlationID, "took", time.Since(begin), "err", err}, telemetry.LogKeys(ctx)...)...)
}

func (mw *loggingMiddleware) Charge(ctx context.Context, r ChargeRequest) (p Payment, err error) {
	defer func(begin time.Time) { mw.log(ctx, "Charge", r.OrderID, r.CorrelationID, begin, err) }(time.Now())
	return mw.next.Charge(ctx, r)
}

func (mw *loggingMiddleware) Refund(ctx context.Context, r RefundRequest) (p Payment, err error) {
	defer func(begin time.Time) { mw.log(ctx, "Refund", r.OrderID, r.CorrelationID, begin, err) }(time.Now())
	return mw.next.Refund(ctx, r)
}
