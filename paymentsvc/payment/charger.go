package payment

import (
	"context"
	"fmt"
)

// Charger charges and refunds. A real payment provider replaces DemoCharger
// behind it. It must treat the order id as an idempotency key: a replica that
// dies between calling it and recording the answer leaves its attempt's
// lease to run out, and the next replica calls it again for the same order.
type Charger interface {
	Charge(ctx context.Context, r ChargeRequest) (paid bool, reason string, err error)
	Refund(ctx context.Context, p Payment) error
}

// DemoCharger is the original system's rule: product "1" is paid, every
// other product is declined.
type DemoCharger struct{}

// Charge implements Charger.
func (DemoCharger) Charge(_ context.Context, r ChargeRequest) (bool, string, error) {
	if r.ProductID == "1" {
		return true, "", nil
	}
	return false, fmt.Sprintf("product %q cannot be paid for in this demo (only product \"1\" can)", r.ProductID), nil
}

// Refund implements Charger.
func (DemoCharger) Refund(context.Context, Payment) error { return nil }
