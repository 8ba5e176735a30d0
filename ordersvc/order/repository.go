package order

import (
	"context"
	"errors"
	"time"
)

// Repository keeps orders, in the words of the use cases: an order is
// created with its outbox entry, read, changed by a function of its latest
// state, and listed by user. How that is stored (versions, caches, which
// document is written first so that a crash loses nothing) is the
// implementation's business; package orderstore's is the one in production,
// and orderstore/orderstoretest the behaviour every one must have.
type Repository interface {
	// Create stores a new order and its outbox entry, so that from then on
	// the order is announced until paymentsvc answers. It returns
	// ErrDuplicate when an order has the id; creating again an order whose
	// creation an earlier request began and did not finish (its
	// Idempotency-Key names it) finishes it.
	Create(ctx context.Context, o Order, e OutboxEntry) error
	// Get returns the order as it is now, or ErrNotFound.
	Get(ctx context.Context, id string) (Order, error)
	// Update changes the order by what change returns of it, and stores
	// the outbox entry change returns with it, if any. change may be called
	// more than once, each time with a fresher order, when the order
	// changed meanwhile (another replica); it returns the order as it got
	// it to change nothing. Update returns the order as stored, or change's
	// error; ErrNotFound when there is no such order, ErrConflict when
	// others kept changing it.
	Update(ctx context.Context, id string, change func(Order) (Order, *OutboxEntry, error)) (Order, error)
	// List returns up to limit of the user's orders, newest first, from
	// cursor (empty: the newest), and the cursor of the next page (empty:
	// this was the last). ErrInvalidCursor when the cursor is not one that
	// List gave for this user.
	List(ctx context.Context, userID, cursor string, limit int) (orders []Order, next string, err error)
	// ClaimKey claims the user's Idempotency-Key for k's order and request,
	// and returns k; when the key was claimed before, it returns that claim
	// instead.
	ClaimKey(ctx context.Context, k KeyClaim) (KeyClaim, error)
}

// OutboxEntry says that an order awaits an answer from paymentsvc: the
// outbox announces the order again, later and later, until it comes.
type OutboxEntry struct {
	OrderID string
	// Awaits is what is awaited: Pending, the outcome of the payment, or
	// Refunding, the refund.
	Awaits PaymentStatus
	// Since is when the order started to await it.
	Since time.Time
}

// Outbox hands back the orders whose answer is late.
type Outbox interface {
	// Sweep calls announce with every order whose outbox entry came due and
	// which still awaits what the entry says, and with how many times it
	// was announced again before; one replica gets each. A failed announce
	// changes nothing: the entry comes due again.
	Sweep(ctx context.Context, announce func(ctx context.Context, o Order, attempt int) error) error
}

// KeyClaim names the order an Idempotency-Key created and the request it
// was created for.
type KeyClaim struct {
	UserID      string
	Key         string
	OrderID     string
	RequestHash string
	CreatedAt   time.Time
}

// Repository errors.
var (
	ErrDuplicate = errors.New("duplicate order or idempotency key")
	ErrConflict  = errors.New("order changed concurrently")
	// ErrUnavailable wraps failures to reach the store.
	ErrUnavailable = errors.New("order store unavailable")
)
