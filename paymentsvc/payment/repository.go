package payment

import (
	"context"
	"errors"
	"time"
)

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

// Repository errors. A Repository wraps every failure to reach its store
// in ErrUnavailable, so that the Service knows to try again.
var (
	ErrNotFound    = errors.New("payment not found")
	ErrDuplicate   = errors.New("already stored")
	ErrUnavailable = errors.New("store unavailable")
)

// ErrBusy means another replica holds the lease on the order's work. The
// request is left to that replica: ordersvc asks again until it hears the
// outcome.
var ErrBusy = errors.New("another replica is working on this payment")

// ErrNothingToRefund means a refund was asked for a payment that was
// declined: such a request can never be served.
var ErrNothingToRefund = errors.New("nothing to refund")
