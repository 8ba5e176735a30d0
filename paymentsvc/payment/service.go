package payment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/internal/keyedlock"
	"github.com/orderflow/orderflow/internal/objectid"
)

// Service charges orders and refunds cancelled ones. Handling is idempotent
// per order: a repeated request republishes the recorded outcome.
type Service interface {
	// Charge charges an order unless it was charged before, and tells
	// ordersvc the outcome either way. It returns the order's payment.
	Charge(ctx context.Context, r ChargeRequest) (Payment, error)
	// Refund refunds the payment of a cancelled order unless it was
	// refunded before, and tells ordersvc either way. It returns the
	// refunded payment.
	Refund(ctx context.Context, r RefundRequest) (Payment, error)
}

// Clock tells the current time.
type Clock func() time.Time

// Option sets an optional parameter of the Service that NewService returns.
type Option func(*service)

// WithClock makes the Service read the time from clock instead of the
// system's. Every time the Service uses comes from it: when a payment or a
// refund happened, when an attempt's lease runs out, how long a call of the
// Charger may take and how long a write is retried.
func WithClock(clock Clock) Option {
	return func(s *service) { s.clock = clock }
}

// NewService returns a Service whose calls to the charger hold an order for
// at most lease before another replica may take it over; replica names this
// process in the attempts it claims.
//
// Work on one order is serialised inside the process; across replicas, the
// numbered attempts keep a second replica from calling the provider while
// the first one may. A Local charger calls no provider: it is asked without
// an attempt, and the order's payment, recorded once, says which answer
// counts. The Service keeps the times it reads in UTC, to the
// millisecond, as its store does.
func NewService(repo Repository, charger Charger, events Events, lease time.Duration, replica string, logger log.Logger, opts ...Option) Service {
	s := &service{repo: repo, charger: charger, events: events, lease: lease, replica: replica, logger: logger, clock: time.Now}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

type service struct {
	repo    Repository
	charger Charger
	events  Events
	lease   time.Duration
	replica string
	logger  log.Logger
	clock   Clock
	locks   keyedlock.Locks
}

// retryPause is how long a write waits before it is tried again.
const retryPause = 200 * time.Millisecond

func (s *service) now() time.Time { return s.clock().UTC().Truncate(time.Millisecond) }

// Charge implements Service.
func (s *service) Charge(ctx context.Context, r ChargeRequest) (Payment, error) {
	defer s.locks.Lock(r.OrderID)()
	logger := log.With(s.logger, "order_id", r.OrderID, "correlation_id", r.CorrelationID)
	recorded := func(ctx context.Context) (Payment, bool, error) {
		p, err := s.repo.Payment(ctx, r.OrderID)
		if errors.Is(err, ErrNotFound) {
			return Payment{}, false, nil
		}
		return p, err == nil, err
	}
	t, p, err := s.begin(ctx, logger, r.OrderID, ChargeWork, recorded)
	if err != nil {
		return Payment{}, err
	}
	if t != nil {
		callCtx, cancel := t.call(ctx)
		paid, reason, err := s.charger.Charge(callCtx, r)
		cancel()
		if err != nil {
			return Payment{}, fmt.Errorf("charge: %w", err)
		}
		p = Payment{
			ID: objectid.New(), OrderID: r.OrderID, UserID: r.UserID, ProductID: r.ProductID,
			Amount: r.Amount, Currency: r.Currency, Status: Declined, Reason: reason,
			CorrelationID: r.CorrelationID, CreatedAt: s.now(),
		}
		if paid {
			p.Status, p.Reason = Paid, ""
		}
		err = t.record(ctx, func(ctx context.Context) error { return s.repo.Record(ctx, p) })
		if errors.Is(err, ErrDuplicate) { // another turn, or an earlier request, recorded first
			p, _, err = recorded(ctx)
		}
		if err != nil {
			return Payment{}, err
		}
	}
	if err := s.events.PaymentProcessed(ctx, p); err != nil {
		return p, fmt.Errorf("tell the outcome: %w", err)
	}
	return p, nil
}

// Refund implements Service.
func (s *service) Refund(ctx context.Context, r RefundRequest) (Payment, error) {
	defer s.locks.Lock(r.OrderID)()
	logger := log.With(s.logger, "order_id", r.OrderID, "correlation_id", r.CorrelationID)
	p, err := s.repo.Payment(ctx, r.OrderID)
	if err != nil {
		return Payment{}, err
	}
	if p.Status == Declined {
		return p, fmt.Errorf("%w: payment %s was declined", ErrNothingToRefund, p.ID)
	}
	refunded := func(ctx context.Context) (Payment, bool, error) {
		p, err := s.repo.Payment(ctx, r.OrderID)
		return p, err == nil && p.Status == Refunded, err
	}
	if p.Status != Refunded {
		t, done, err := s.begin(ctx, logger, r.OrderID, RefundWork, refunded)
		switch {
		case err != nil:
			return Payment{}, err
		case t == nil: // refunded meanwhile
			p = done
		default:
			callCtx, cancel := t.call(ctx)
			err := s.charger.Refund(callCtx, p)
			cancel()
			if err != nil {
				return Payment{}, fmt.Errorf("refund: %w", err)
			}
			at := s.now()
			err = t.record(ctx, func(ctx context.Context) error { return s.repo.RecordRefund(ctx, r.OrderID, r.CorrelationID, at) })
			if err != nil && !errors.Is(err, ErrDuplicate) {
				return Payment{}, err
			}
			p.Status, p.RefundedAt = Refunded, at
		}
	}
	// The refund is the cancel's doing: its event carries the cancel's
	// request id, not the create's.
	if r.CorrelationID != "" {
		p.CorrelationID = r.CorrelationID
	}
	if err := s.events.PaymentRefunded(ctx, p); err != nil {
		return p, fmt.Errorf("tell the refund: %w", err)
	}
	return p, nil
}

// A turn is this replica's turn to call the charger about an order's work
// and record its answer.
type turn struct {
	s      *service
	logger log.Logger
	a      Attempt // the attempt claimed for it; zero for a Local charger
}

// begin takes this replica's turn at work on the order. A Local charger's
// turn is always free: it is asked at once, and its answer is recorded
// once. Anyone else's is the next attempt, claimed for this replica; when
// done says the work is done already, begin returns no turn and what done
// read, and ErrBusy while another replica's attempt holds a live lease.
func (s *service) begin(ctx context.Context, logger log.Logger, orderID string, work Work, done func(context.Context) (Payment, bool, error)) (*turn, Payment, error) {
	if local(s.charger) {
		return &turn{s: s, logger: logger}, Payment{}, nil
	}
	a, p, err := s.claim(ctx, logger, orderID, work, done)
	if err != nil || a.N == 0 {
		return nil, p, err
	}
	return &turn{s: s, logger: logger, a: a}, Payment{}, nil
}

// call bounds a call to the charger by the attempt's lease, less a margin
// for the clocks of replicas that disagree a little: a call that outlives the
// lease could overlap another replica's.
func (t *turn) call(ctx context.Context) (context.Context, context.CancelFunc) {
	if t.a.N == 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, t.a.LeaseUntil.Add(-t.s.lease/5).Sub(t.s.now()))
}

// record calls write, the record of the charger's answer. Under a lease, it
// calls it again until it succeeds, fails for good, or the lease runs out
// by the clock: an answer of the provider is worth waiting for the store,
// since once the lease has run out another replica may ask the provider
// again. Tries are retryPause apart. A Local charger's answer is not worth
// the wait: it is asked again when the order is announced again.
func (t *turn) record(ctx context.Context, write func(context.Context) error) error {
	for {
		err := write(ctx)
		if t.a.N == 0 || err == nil || !errors.Is(err, ErrUnavailable) || !t.s.now().Before(t.a.LeaseUntil) {
			return err
		}
		t.logger.Log("msg", "the store is unavailable; recording again", "work", t.a.Work, "attempt", t.a.N, "err", err)
		pause := time.NewTimer(retryPause)
		select {
		case <-ctx.Done():
			pause.Stop()
			return err
		case <-pause.C:
		}
	}
}

// claim claims the next attempt at work on the order for this replica. It
// returns the attempt, or, when done says the work is done already, a zero
// attempt and what done read; ErrBusy while another replica's attempt holds
// a live lease.
func (s *service) claim(ctx context.Context, logger log.Logger, orderID string, work Work, done func(context.Context) (Payment, bool, error)) (Attempt, Payment, error) {
	for n := 1; ; n++ {
		t := s.now()
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
				logger.Log("msg", "work taken over from an attempt whose lease ran out", "work", work, "attempt", n)
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
