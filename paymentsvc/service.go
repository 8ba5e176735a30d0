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

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/keyedlock"
)

// Status is what became of a payment.
type Status string

// Payment statuses.
const (
	Paid     Status = "Paid"
	Declined Status = "Declined"
	Refunded Status = "Refunded"
)

// Payment is the one payment of an order: the provider's answer, as
// recorded, and whether it was refunded since.
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
	RefundedAt    time.Time // zero unless Refunded
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

// Work is what an attempt calls the provider for.
type Work string

// Works.
const (
	ChargeWork Work = "charge"
	RefundWork Work = "refund"
)

// Attempt is a replica's claim on calling the provider for an order, until
// its lease runs out. Attempts are numbered from 1; claiming number n
// succeeds once, so at most one replica holds a live lease on an order's
// work at a time.
type Attempt struct {
	OrderID    string
	Work       Work
	N          int
	Replica    string
	At         time.Time
	LeaseUntil time.Time
}

// Repository stores payments. Nothing in it changes once written: an
// attempt, a payment and a refund are each stored once under a key that
// names them.
type Repository interface {
	// Claim stores the attempt, or returns ErrDuplicate when its number
	// is taken.
	Claim(ctx context.Context, a Attempt) error
	// Attempt returns attempt n of the work on the order, or ErrNotFound.
	Attempt(ctx context.Context, orderID string, work Work, n int) (Attempt, error)
	// Record stores the payment of an order, or returns ErrDuplicate when
	// the order has one.
	Record(ctx context.Context, p Payment) error
	// RecordRefund stores that the payment of an order was refunded, or
	// returns ErrDuplicate when that is stored already.
	RecordRefund(ctx context.Context, orderID, correlationID string, at time.Time) error
	// Payment returns the payment of an order, Refunded once its refund is
	// recorded, or ErrNotFound.
	Payment(ctx context.Context, orderID string) (Payment, error)
}

// Repository errors.
var (
	ErrNotFound  = errors.New("payment not found")
	ErrDuplicate = errors.New("already stored")
	// ErrUnavailable wraps failures to reach the store.
	ErrUnavailable = docstore.ErrUnavailable
)

// ErrBusy means another replica holds the lease on the order's work. The
// message is dropped: ordersvc asks again until it hears the outcome.
var ErrBusy = errors.New("another replica is working on this payment")

// Events reports payments to ordersvc. Each method returns how many
// subscribers received the report.
type Events interface {
	PaymentProcessed(ctx context.Context, p Payment) (receivers int64, err error)
	PaymentRefunded(ctx context.Context, p Payment) (receivers int64, err error)
}

// Service charges orders and refunds cancelled ones. Handling is idempotent
// per order: a repeated request republishes the recorded outcome. Work on one
// order is serialised inside the process; across replicas, the numbered
// attempts keep a second replica from calling the provider while the first
// one may.
type Service struct {
	repo    Repository
	charger Charger
	events  Events
	lease   time.Duration
	replica string
	logger  log.Logger
	locks   keyedlock.Locks
}

// NewService returns a Service whose calls to the charger hold an order for
// at most lease before another replica may take it over; replica names this
// process in the attempts it claims.
func NewService(repo Repository, charger Charger, events Events, lease time.Duration, replica string, logger log.Logger) *Service {
	return &Service{repo: repo, charger: charger, events: events, lease: lease, replica: replica, logger: logger}
}

func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// Charge charges an order unless it was charged before, and publishes the
// outcome either way.
func (s *Service) Charge(ctx context.Context, r ChargeRequest) error {
	defer s.locks.Lock(r.OrderID)()
	logger := log.With(s.logger, "order_id", r.OrderID, "correlation_id", r.CorrelationID)
	recorded := func(ctx context.Context) (Payment, bool, error) {
		p, err := s.repo.Payment(ctx, r.OrderID)
		if errors.Is(err, ErrNotFound) {
			return Payment{}, false, nil
		}
		return p, err == nil, err
	}
	a, p, err := s.claim(ctx, r.OrderID, ChargeWork, recorded)
	if err != nil {
		return err
	}
	if a.N > 0 {
		callCtx, cancel := s.withinLease(ctx, a)
		paid, reason, err := s.charger.Charge(callCtx, r)
		cancel()
		if err != nil {
			return fmt.Errorf("charge: %w", err)
		}
		p = Payment{
			ID: bson.NewObjectID().Hex(), OrderID: r.OrderID, UserID: r.UserID, ProductID: r.ProductID,
			Amount: r.Amount, Currency: r.Currency, Status: Declined, Reason: reason,
			CorrelationID: r.CorrelationID, CreatedAt: now(),
		}
		if paid {
			p.Status, p.Reason = Paid, ""
		}
		err = s.keep(ctx, a, func(ctx context.Context) error { return s.repo.Record(ctx, p) })
		if errors.Is(err, ErrDuplicate) { // an attempt that took over from this one recorded first
			p, _, err = recorded(ctx)
		}
		if err != nil {
			return err
		}
		logger = log.With(logger, "msg", "payment recorded", "product_id", r.ProductID, "amount_sen", r.Amount, "attempt", a.N)
	} else {
		logger = log.With(logger, "msg", "payment already recorded; its outcome published again")
	}

	n, err := s.events.PaymentProcessed(ctx, p)
	kv := []any{"payment_id", p.ID, "payment_status", p.Status}
	if p.Reason != "" {
		kv = append(kv, "reason", p.Reason)
	}
	logPublished(logger, err, append(kv, "channel", "payments.processed", "receivers", n)...)
	if err != nil {
		return fmt.Errorf("publish outcome: %w", err)
	}
	return nil
}

// Refund refunds the payment of a cancelled order unless it was refunded
// before, and publishes the refund either way.
func (s *Service) Refund(ctx context.Context, orderID, correlationID string) error {
	defer s.locks.Lock(orderID)()
	logger := log.With(s.logger, "order_id", orderID, "correlation_id", correlationID)
	p, err := s.repo.Payment(ctx, orderID)
	if err != nil {
		return err
	}
	if p.Status == Declined {
		return fmt.Errorf("payment %s was declined: nothing to refund", p.ID)
	}
	refunded := func(ctx context.Context) (Payment, bool, error) {
		p, err := s.repo.Payment(ctx, orderID)
		return p, err == nil && p.Status == Refunded, err
	}
	a := Attempt{}
	if p.Status != Refunded {
		var done Payment
		if a, done, err = s.claim(ctx, orderID, RefundWork, refunded); err != nil {
			return err
		}
		if a.N == 0 { // refunded meanwhile
			p = done
		}
	}
	if a.N > 0 {
		callCtx, cancel := s.withinLease(ctx, a)
		err := s.charger.Refund(callCtx, p)
		cancel()
		if err != nil {
			return fmt.Errorf("refund: %w", err)
		}
		at := now()
		err = s.keep(ctx, a, func(ctx context.Context) error { return s.repo.RecordRefund(ctx, orderID, correlationID, at) })
		if err != nil && !errors.Is(err, ErrDuplicate) {
			return err
		}
		p.Status, p.RefundedAt = Refunded, at
		logger = log.With(logger, "msg", "payment refunded", "attempt", a.N)
	} else {
		logger = log.With(logger, "msg", "payment already refunded; the refund published again")
	}
	n, err := s.events.PaymentRefunded(ctx, p)
	logPublished(logger, err, "payment_id", p.ID, "channel", "payments.refunded", "receivers", n)
	if err != nil {
		return fmt.Errorf("publish refund: %w", err)
	}
	return nil
}

// logPublished logs keyvals, and err when the publish failed.
func logPublished(logger log.Logger, err error, keyvals ...any) {
	if err != nil {
		keyvals = append(keyvals, "err", err)
	}
	logger.Log(keyvals...)
}

// claim claims the next attempt at work on the order for this replica. It
// returns the attempt, or, when done says the work is done already, a zero
// attempt and what done read; ErrBusy while another replica's attempt holds
// a live lease.
func (s *Service) claim(ctx context.Context, orderID string, work Work, done func(context.Context) (Payment, bool, error)) (Attempt, Payment, error) {
	for n := 1; ; n++ {
		t := now()
		a := Attempt{OrderID: orderID, Work: work, N: n, Replica: s.replica, At: t, LeaseUntil: t.Add(s.lease)}
		err := s.repo.Claim(ctx, a)
		if err != nil && !errors.Is(err, ErrDuplicate) {
			return Attempt{}, Payment{}, err
		}
		// Taken, or taken over from an attempt whose holder may have
		// finished since it was read: the work may be done.
		if err != nil || n > 1 {
			if p, ok, err := done(ctx); err != nil || ok {
				return Attempt{}, p, err
			}
		}
		if err == nil {
			if n > 1 {
				s.logger.Log("msg", "work taken over from an attempt whose lease ran out", "order_id", orderID, "work", work, "attempt", n)
			}
			return a, Payment{}, nil
		}
		prev, err := s.repo.Attempt(ctx, orderID, work, n)
		if err != nil {
			return Attempt{}, Payment{}, err
		}
		if t.Before(prev.LeaseUntil) {
			// A live lease: the holder's, unless a later attempt exists.
			switch _, err := s.repo.Attempt(ctx, orderID, work, n+1); {
			case errors.Is(err, ErrNotFound):
				return Attempt{}, Payment{}, ErrBusy
			case err != nil:
				return Attempt{}, Payment{}, err
			}
		}
	}
}

// keep calls write until it succeeds, fails for good, or the attempt's
// lease runs out: an answer of the provider is worth waiting for the store,
// since once the lease has run out another replica may ask the provider
// again.
func (s *Service) keep(ctx context.Context, a Attempt, write func(context.Context) error) error {
	for {
		err := write(ctx)
		if err == nil || !errors.Is(err, ErrUnavailable) || !now().Before(a.LeaseUntil) {
			return err
		}
		s.logger.Log("msg", "the store is unavailable; recording again", "order_id", a.OrderID, "work", a.Work, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// withinLease bounds a call to the charger by the lease of a, less a margin
// for the clocks of replicas that disagree a little: a call that outlives the
// lease could overlap another replica's.
func (s *Service) withinLease(ctx context.Context, a Attempt) (context.Context, context.CancelFunc) {
	return context.WithDeadline(ctx, a.LeaseUntil.Add(-s.lease/5))
}
