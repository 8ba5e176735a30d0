package ordersvc

import (
	"context"
	"errors"
	"time"
)

// Repository stores orders. Every change of an order is a single-document
// conditional update, so replicas and redelivered events never overwrite
// each other.
type Repository interface {
	// Create stores a new order. It returns ErrDuplicate when an order with
	// its id exists, or when its idempotency key names another order.
	Create(ctx context.Context, o Order) error
	// Get returns the order with id, or ErrNotFound.
	Get(ctx context.Context, id string) (Order, error)
	// GetByIdempotencyKey returns the user's order created with key, or
	// ErrNotFound. While the request that claimed the key has not stored its
	// order, it returns ErrInProgress with the order's id and request hash.
	GetByIdempotencyKey(ctx context.Context, userID, key string) (Order, error)
	// List returns up to limit of the user's orders, newest first, starting
	// after the position after (zero: from the newest).
	List(ctx context.Context, userID string, after Position, limit int) ([]Order, error)
	// Update replaces the mutable fields of o (statuses, payment, correlation
	// id, update and redelivery times) if the stored order is still in state
	// from, else it returns ErrConflict (or ErrNotFound).
	Update(ctx context.Context, o Order, from State) error
	// Due returns up to limit orders whose NextPublishAt is at or before now,
	// oldest first.
	Due(ctx context.Context, now time.Time, limit int) ([]Order, error)
	// Reschedule claims a due order for redelivery: it moves NextPublishAt
	// from from to next and sets PublishAttempts, and reports whether it did
	// (false when another replica or an update got there first).
	Reschedule(ctx context.Context, id string, from, next time.Time, attempts int) (bool, error)
}

// Position is a place in a user's newest-first order list.
type Position struct {
	CreatedAt time.Time
	ID        string
}

// IsZero reports whether p is the start of the list.
func (p Position) IsZero() bool { return p.ID == "" }

// Repository errors.
var (
	ErrDuplicate = errors.New("duplicate order or idempotency key")
	ErrConflict  = errors.New("order changed concurrently")
	// ErrInProgress means the idempotency key was claimed by a request that
	// has not stored its order yet (or died before it did).
	ErrInProgress = errors.New("a request with this idempotency key is in progress")
	// ErrUnavailable wraps failures to reach the store.
	ErrUnavailable = errors.New("order store unavailable")
)
