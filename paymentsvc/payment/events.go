package payment

import "context"

// Events reports payments to ordersvc. A report may be lost on its way:
// ordersvc asks again until it has one.
type Events interface {
	PaymentProcessed(ctx context.Context, p Payment) error
	PaymentRefunded(ctx context.Context, p Payment) error
}
