package order

import (
	"context"
	"time"
)

// OutboxEntry says that an order awaits an answer from paymentsvc.
type OutboxEntry struct {
	OrderID string
	// Awaits is the payment status whose answer is awaited: Pending (the
	// payment) or Refunding (the refund).
	Awaits PaymentStatus
	// Attempt counts the announcements made again.
	Attempt int
	// Since is when the order started to await it.
	Since time.Time
}

// Scheduler keeps, in the store, which orders await paymentsvc and when to
// announce them again: the outbox.
type Scheduler interface {
	// Schedule stores the entries, due at at, and returns once they are
	// stored.
	Schedule(ctx context.Context, at time.Time, entries ...OutboxEntry) error
}

// DueFunc handles an entry whose time came: it returns the entry to keep
// (next, due at at) when keep is true, or lets it go.
type DueFunc func(ctx context.Context, e OutboxEntry) (next OutboxEntry, at time.Time, keep bool, err error)

// Sweeper hands the outbox's due entries to a DueFunc.
type Sweeper interface {
	Sweep(ctx context.Context, due DueFunc) error
}
