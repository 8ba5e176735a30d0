// Package paymentsvc owns payments: it charges each order at most once,
// records the outcome in MongoDB, reports it to ordersvc, and refunds the
// payments of cancelled orders.
package paymentsvc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-kit/log"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/orderflow/orderflow/internal/platform"
)

// Status is where a payment is.
type Status string

// Payment statuses. Charging and Refunding are held under a lease by the
// replica calling the payment provider; Declined and Refunded are final.
const (
	Charging  Status = "Charging"
	Paid      Status = "Paid"
	Declined  Status = "Declined"
	Refunding Status = "Refunding"
	Refunded  Status = "Refunded"
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
	// LeaseUntil is when the replica working on a Charging or Refunding
	// payment loses it to another; zero in the other statuses.
	LeaseUntil time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Paid reports whether the order was charged (and maybe refunded since).
func (p Payment) Paid() bool {
	return p.Status == Paid || p.Status == Refunding || p.Status == Refunded
}

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
// behind it. It must treat the order id as an idempotency key: a replica that
// crashes between calling it and recording the answer leaves the payment's
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

// Repository stores payments, at most one per order.
type Repository interface {
	// Create stores a new payment, or returns ErrDuplicate when the order has one.
	Create(ctx context.Context, p Payment) error
	// GetByOrder returns the payment of an order, or ErrNotFound.
	GetByOrder(ctx context.Context, orderID string) (Payment, error)
	// Update replaces the status, reason, lease and update time of the
	// stored payment with p's if it still has the status and lease of from,
	// else it returns ErrConflict.
	Update(ctx context.Context, p Payment, from Payment) error
}

// Repository errors.
var (
	ErrNotFound  = errors.New("payment not found")
	ErrDuplicate = errors.New("order already has a payment")
	ErrConflict  = errors.New("payment changed concurrently")
)

// ErrBusy means another replica holds the payment's lease. The message is
// dropped: ordersvc asks again until it hears the outcome.
var ErrBusy = errors.New("another replica is working on this payment")

// Events reports payments to ordersvc. Each method returns how many
// subscribers received the report.
type Events interface {
	PaymentProcessed(ctx context.Context, p Payment) (receivers int64, err error)
	PaymentRefunded(ctx context.Context, p Payment) (receivers int64, err error)
}

// Service charges orders and refunds cancelled ones. Handling is idempotent
// per order: a repeated request republishes the recorded outcome. Work on one
// order is serialised inside the process; across replicas a lease in the
// payment record keeps a second replica from calling the provider while the
// first one is.
type Service struct {
	repo    Repository
	charger Charger
	events  Events
	lease   time.Duration
	logger  log.Logger
	locks   platform.KeyedLocks
}

// NewService returns a Service whose calls to the charger hold a payment for
// at most lease before another replica may take it over.
func NewService(repo Repository, charger Charger, events Events, lease time.Duration, logger log.Logger) *Service {
	return &Service{repo: repo, charger: charger, events: events, lease: lease, logger: logger}
}

func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// Charge charges an order unless it was charged before, and publishes the
// outcome either way.
func (s *Service) Charge(ctx context.Context, r ChargeRequest) error {
	defer s.locks.Lock(r.OrderID)()
	logger := log.With(s.logger, "order_id", r.OrderID, "correlation_id", r.CorrelationID)
	logger.Log("msg", "payment request received", "product_id", r.ProductID, "amount", r.Amount)

	p, err := s.repo.GetByOrder(ctx, r.OrderID)
	switch {
	case errors.Is(err, ErrNotFound):
		p, err = s.create(ctx, r)
	case err == nil && p.Status == Charging: // its charger crashed, or is slow
		p, err = s.acquire(ctx, p, Charging)
	}
	if err != nil {
		return err
	}

	if p.Status == Charging {
		callCtx, cancel := s.withinLease(ctx, p)
		defer cancel()
		paid, reason, err := s.charger.Charge(callCtx, ChargeRequest{
			OrderID: p.OrderID, UserID: p.UserID, ProductID: p.ProductID,
			Amount: p.Amount, Currency: p.Currency, CorrelationID: p.CorrelationID,
		})
		if err != nil {
			return fmt.Errorf("charge: %w", err)
		}
		outcome := Declined
		if paid {
			outcome, reason = Paid, ""
		}
		if p, err = s.release(ctx, p, outcome, reason); err != nil {
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

// create records a new payment, Charging under this replica's lease.
func (s *Service) create(ctx context.Context, r ChargeRequest) (Payment, error) {
	t := now()
	p := Payment{
		ID: bson.NewObjectID().Hex(), OrderID: r.OrderID, UserID: r.UserID, ProductID: r.ProductID,
		Amount: r.Amount, Currency: r.Currency, Status: Charging, CorrelationID: r.CorrelationID,
		LeaseUntil: t.Add(s.lease), CreatedAt: t, UpdatedAt: t,
	}
	switch err := s.repo.Create(ctx, p); {
	case errors.Is(err, ErrDuplicate): // another replica created it first
		return Payment{}, ErrBusy
	case err != nil:
		return Payment{}, err
	}
	return p, nil
}

// acquire moves p to status (Charging or Refunding) under a fresh lease of
// this replica, unless another replica holds an unexpired lease on it.
func (s *Service) acquire(ctx context.Context, p Payment, status Status) (Payment, error) {
	t := now()
	if p.Status == status && t.Before(p.LeaseUntil) {
		return Payment{}, ErrBusy
	}
	next := p
	next.Status, next.LeaseUntil, next.UpdatedAt = status, t.Add(s.lease), t
	return s.swap(ctx, next, p)
}

// swap stores next in place of p, unless another replica changed p since:
// then ErrBusy.
func (s *Service) swap(ctx context.Context, next, p Payment) (Payment, error) {
	switch err := s.repo.Update(ctx, next, p); {
	case errors.Is(err, ErrConflict):
		return Payment{}, ErrBusy
	case err != nil:
		return Payment{}, err
	}
	return next, nil
}

// withinLease bounds a call to the charger by the lease on p, less a margin
// for the clocks of replicas that disagree a little: a call that outlives the
// lease could overlap another replica's.
func (s *Service) withinLease(ctx context.Context, p Payment) (context.Context, context.CancelFunc) {
	return context.WithDeadline(ctx, p.LeaseUntil.Add(-s.lease/5))
}

// release records the outcome of a leased payment and ends the lease. When
// the lease ran out and another replica took the payment over, that replica
// records the outcome and this one reports ErrBusy.
func (s *Service) release(ctx context.Context, p Payment, status Status, reason string) (Payment, error) {
	next := p
	next.Status, next.Reason, next.LeaseUntil, next.UpdatedAt = status, reason, time.Time{}, now()
	return s.swap(ctx, next, p)
}

// Refund refunds the payment of a cancelled order unless it was refunded
// before, and publishes the refund either way.
func (s *Service) Refund(ctx context.Context, orderID, correlationID string) error {
	defer s.locks.Lock(orderID)()
	logger := log.With(s.logger, "order_id", orderID, "correlation_id", correlationID)
	logger.Log("msg", "refund request received")

	p, err := s.repo.GetByOrder(ctx, orderID)
	if err != nil {
		return err
	}
	switch p.Status {
	case Paid, Refunding:
		if p, err = s.acquire(ctx, p, Refunding); err != nil {
			return err
		}
		callCtx, cancel := s.withinLease(ctx, p)
		defer cancel()
		if err := s.charger.Refund(callCtx, p); err != nil {
			return fmt.Errorf("refund: %w", err)
		}
		if p, err = s.release(ctx, p, Refunded, p.Reason); err != nil {
			return err
		}
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
