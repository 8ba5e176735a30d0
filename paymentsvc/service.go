// Package paymentsvc owns payments: it charges each order at most once,
// records the outcome in MongoDB, reports it to ordersvc, and refunds the
// payments of cancelled orders.
package paymentsvc

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/go-kit/log"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Status is where a payment is.
type Status string

// Payment statuses. A payment is Charging from the moment it is claimed
// until the charger answers; a crash in between leaves it Charging, and the
// next request for the order charges again with the same order id, which a
// real provider treats as an idempotency key.
const (
	Charging Status = "Charging"
	Paid     Status = "Paid"
	Declined Status = "Declined"
	Refunded Status = "Refunded"
)

// Payment is the one payment of an order.
type Payment struct {
	ID            string
	OrderID       string
	UserID        string
	ProductID     string
	Amount        int64 // in the currency's smallest unit
	Currency      string
	Status        Status
	Reason        string
	CorrelationID string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Paid reports whether the order was charged (and maybe refunded since).
func (p Payment) Paid() bool { return p.Status == Paid || p.Status == Refunded }

// ChargeRequest asks for an order to be charged.
type ChargeRequest struct {
	OrderID       string
	UserID        string
	ProductID     string
	Amount        int64
	Currency      string
	CorrelationID string
}

// Charger charges and refunds. A real payment provider replaces DemoCharger
// behind it; it must treat the order id as an idempotency key.
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

// Repository stores payments, at most one per order.
type Repository interface {
	// Create stores a new payment, or returns ErrDuplicate when the order has one.
	Create(ctx context.Context, p Payment) error
	// GetByOrder returns the payment of an order, or ErrNotFound.
	GetByOrder(ctx context.Context, orderID string) (Payment, error)
	// Update replaces the status, reason and update time of p if the stored
	// payment is still in status from, else it returns ErrConflict.
	Update(ctx context.Context, p Payment, from Status) error
}

// Repository errors.
var (
	ErrNotFound  = errors.New("payment not found")
	ErrDuplicate = errors.New("order already has a payment")
	ErrConflict  = errors.New("payment changed concurrently")
)

// Events reports payments to ordersvc. Each method returns how many
// subscribers received the report.
type Events interface {
	PaymentProcessed(ctx context.Context, p Payment) (receivers int64, err error)
	PaymentRefunded(ctx context.Context, p Payment) (receivers int64, err error)
}

// Service charges orders and refunds cancelled ones. Handling is idempotent
// per order: a repeated request republishes the recorded outcome.
type Service struct {
	repo    Repository
	charger Charger
	events  Events
	logger  log.Logger
	locks   [64]sync.Mutex
}

// NewService returns a Service.
func NewService(repo Repository, charger Charger, events Events, logger log.Logger) *Service {
	return &Service{repo: repo, charger: charger, events: events, logger: logger}
}

func (s *Service) lock(orderID string) func() {
	h := fnv.New32a()
	h.Write([]byte(orderID))
	m := &s.locks[h.Sum32()%uint32(len(s.locks))]
	m.Lock()
	return m.Unlock
}

func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// Charge charges an order unless it was charged before, and publishes the
// outcome either way.
func (s *Service) Charge(ctx context.Context, r ChargeRequest) error {
	defer s.lock(r.OrderID)()
	logger := log.With(s.logger, "order_id", r.OrderID, "correlation_id", r.CorrelationID)
	logger.Log("msg", "payment request received", "product_id", r.ProductID, "amount", r.Amount)

	p, err := s.claim(ctx, r)
	if err != nil {
		return err
	}
	if p.Status == Charging {
		if p, err = s.charge(ctx, p); err != nil {
			return err
		}
		logger.Log("msg", "payment recorded", "payment_id", p.ID, "status", p.Status, "reason", p.Reason)
	} else {
		logger.Log("msg", "payment already recorded; publishing its outcome again", "payment_id", p.ID, "status", p.Status)
	}
	n, err := s.events.PaymentProcessed(ctx, p)
	if err != nil {
		return fmt.Errorf("publish outcome: %w", err)
	}
	logger.Log("msg", "outcome published", "channel", "payments.processed", "paid", p.Paid(), "receivers", n)
	return nil
}

// claim returns the order's payment, creating it Charging when there is none.
func (s *Service) claim(ctx context.Context, r ChargeRequest) (Payment, error) {
	p, err := s.repo.GetByOrder(ctx, r.OrderID)
	if !errors.Is(err, ErrNotFound) {
		return p, err
	}
	t := now()
	p = Payment{
		ID: bson.NewObjectID().Hex(), OrderID: r.OrderID, UserID: r.UserID, ProductID: r.ProductID,
		Amount: r.Amount, Currency: r.Currency, Status: Charging, CorrelationID: r.CorrelationID,
		CreatedAt: t, UpdatedAt: t,
	}
	err = s.repo.Create(ctx, p)
	if errors.Is(err, ErrDuplicate) { // another replica claimed it first
		return s.repo.GetByOrder(ctx, r.OrderID)
	}
	return p, err
}

// charge asks the charger and records its answer.
func (s *Service) charge(ctx context.Context, p Payment) (Payment, error) {
	paid, reason, err := s.charger.Charge(ctx, ChargeRequest{
		OrderID: p.OrderID, UserID: p.UserID, ProductID: p.ProductID,
		Amount: p.Amount, Currency: p.Currency, CorrelationID: p.CorrelationID,
	})
	if err != nil {
		return Payment{}, fmt.Errorf("charge: %w", err)
	}
	next := p
	next.Status, next.Reason, next.UpdatedAt = Declined, reason, now()
	if paid {
		next.Status, next.Reason = Paid, ""
	}
	switch err := s.repo.Update(ctx, next, Charging); {
	case errors.Is(err, ErrConflict): // another replica recorded it first
		return s.repo.GetByOrder(ctx, p.OrderID)
	case err != nil:
		return Payment{}, err
	}
	return next, nil
}

// Refund refunds the payment of a cancelled order unless it was refunded
// before, and publishes the refund either way.
func (s *Service) Refund(ctx context.Context, orderID, correlationID string) error {
	defer s.lock(orderID)()
	logger := log.With(s.logger, "order_id", orderID, "correlation_id", correlationID)
	logger.Log("msg", "refund request received")

	p, err := s.repo.GetByOrder(ctx, orderID)
	if err != nil {
		return err
	}
	switch p.Status {
	case Paid:
		if err := s.charger.Refund(ctx, p); err != nil {
			return fmt.Errorf("refund: %w", err)
		}
		next := p
		next.Status, next.UpdatedAt = Refunded, now()
		if err := s.repo.Update(ctx, next, Paid); err != nil && !errors.Is(err, ErrConflict) {
			return err
		}
		p = next
		logger.Log("msg", "payment refunded", "payment_id", p.ID)
	case Refunded:
		logger.Log("msg", "payment already refunded; publishing the refund again", "payment_id", p.ID)
	default:
		return fmt.Errorf("payment is %s: nothing to refund", p.Status)
	}
	n, err := s.events.PaymentRefunded(ctx, p)
	if err != nil {
		return fmt.Errorf("publish refund: %w", err)
	}
	logger.Log("msg", "refund published", "channel", "payments.refunded", "receivers", n)
	return nil
}
