package order

import (
	"context"
	"errors"
	"time"
)

// Repository stores orders. An order is stored as it was created (version
// 0) and then as each of its changes: storing version n succeeds once, so
// of two writers that both read version n-1, one moves the order and the
// other learns it lost and reads again. Nothing is ever updated in place.
type Repository interface {
	// Create stores a new order at version 0, first in its user's list.
	// first, unless nil, runs while the order is being listed; the order is
	// stored only once both succeeded. ErrDuplicate when an order has its
	// id.
	Create(ctx context.Context, o Order, first func(context.Context) error) error
	// Resume is Create for an order whose creation an earlier request
	// began (its Idempotency-Key names it): it lists the order only if
	// that request had not.
	Resume(ctx context.Context, o Order, first func(context.Context) error) error
	// Get returns the order at its latest version, or ErrNotFound.
	Get(ctx context.Context, id string) (Order, error)
	// Peek returns the latest version of the order this process knows of,
	// without asking the store: it may be behind, never ahead.
	Peek(id string) (Order, bool)
	// Change stores o as version o.Version of the order, the version after
	// the one it was read at, or returns ErrConflict when another change
	// took that version.
	Change(ctx context.Context, o Order) error
	// List returns up to limit of the user's orders, newest first, from
	// position from (zero: the newest), and the position to go on from
	// (zero: there are no more).
	List(ctx context.Context, userID string, from Position, limit int) ([]Order, Position, error)
	// ClaimKey records that the user's idempotency key names k's order,
	// unless the key is taken: then ErrDuplicate.
	ClaimKey(ctx context.Context, k KeyClaim) error
	// Key returns the claim of the user's key, or ErrNotFound.
	Key(ctx context.Context, userID, key string) (KeyClaim, error)
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

// Position is a place in a user's list of orders: the number of the order
// in the order they were listed, from 1. Zero is the start of a list.
type Position int64

// Repository errors.
var (
	ErrDuplicate = errors.New("duplicate order or idempotency key")
	ErrConflict  = errors.New("order changed concurrently")
	// ErrUnavailable wraps failures to reach the store.
	ErrUnavailable = errors.New("order store unavailable")
)
