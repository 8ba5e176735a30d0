package payment_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/objectid"
	"github.com/orderflow/orderflow/paymentsvc/payment"
	"github.com/orderflow/orderflow/paymentsvc/paymentstore"
)

// countingCharger is the demo rule, counting its calls and keeping the
// deadline each call was given. It stands for a payment provider unless
// local is set.
type countingCharger struct {
	payment.DemoCharger
	local     bool
	mu        sync.Mutex
	charges   int
	refunds   int
	deadlines []time.Time
	hold      chan struct{} // when set, a charge waits for it to close
}

func (c *countingCharger) Charge(ctx context.Context, r payment.ChargeRequest) (bool, string, error) {
	deadline, _ := ctx.Deadline()
	c.mu.Lock()
	c.charges++
	c.deadlines = append(c.deadlines, deadline)
	c.mu.Unlock()
	if c.hold != nil {
		<-c.hold
	}
	return c.DemoCharger.Charge(ctx, r)
}

func (c *countingCharger) Local() bool { return c.local }

func (c *countingCharger) Refund(context.Context, payment.Payment) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refunds++
	return nil
}

func (c *countingCharger) counts() (charges, refunds int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.charges, c.refunds
}

// outbox is an Events that keeps what was published.
type outbox struct {
	mu        sync.Mutex
	processed []payment.Payment
	refunded  []payment.Payment
}

func (o *outbox) PaymentProcessed(_ context.Context, p payment.Payment) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.processed = append(o.processed, p)
	return nil
}

func (o *outbox) PaymentRefunded(_ context.Context, p payment.Payment) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refunded = append(o.refunded, p)
	return nil
}

// newMemoryRepo returns the Store on a database in memory.
func newMemoryRepo(t *testing.T) *paymentstore.Store {
	t.Helper()
	repo, err := paymentstore.NewStore(context.Background(), docstore.NewMemory())
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

const lease = time.Minute

func newService(repo payment.Repository, charger payment.Charger, events payment.Events, replica string, opts ...payment.Option) payment.Service {
	return payment.NewService(repo, charger, events, lease, replica, log.NewNopLogger(), opts...)
}

func request(product string) payment.ChargeRequest {
	return payment.ChargeRequest{OrderID: objectid.New(), UserID: "u1", ProductID: product, Amount: 9900, Currency: "MYR", CorrelationID: "c-" + product}
}
