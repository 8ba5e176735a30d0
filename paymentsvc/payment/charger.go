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

// Local is a Charger that decides in the process and calls nobody, as
// DemoCharger does: asking it twice about an order moves no money, so no
// lease has to keep two replicas from asking it at once. The Service asks a
// Local charger without claiming an attempt first, and the order's payment,
// recorded once, settles which answer counts.
type Local interface {
	Charger
	// Local reports whether the Charger calls nobody.
	Local() bool
}

// Leased returns c as a Charger the Service claims an attempt for before
// every call, as it does for a payment provider, even when c is Local.
func Leased(c Charger) Charger { return leased{c} }

type leased struct{ Charger } // only Charger's methods: never Local

// local reports whether c calls nobody.
func local(c Charger) bool {
	l, ok := c.(Local)
	return ok && l.Local()
}

// DemoCharger is the original system's rule: product "1" is paid, every
// other product is declined. It is Local.
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

// Local implements Local: the rule calls nobody.
func (DemoCharger) Local() bool { return true }
