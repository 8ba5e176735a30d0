package payment

import "context"

// Events reports payments to ordersvc. Each method returns how many
// subscribers received the report.
type Events interface {
	PaymentProcessed(ctx context.Context, p Payment) (receivers int64, err error)
	PaymentRefunded(ctx context.Context, p Payment) (receivers int64, err error)
}
