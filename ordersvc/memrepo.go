package ordersvc

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// MemRepository is an in-memory Repository for fast tests. It keeps the
// contract of the MongoDB one; the same suite runs against both.
type MemRepository struct {
	mu     sync.Mutex
	orders map[string]Order
}

// NewMemRepository returns an empty MemRepository.
func NewMemRepository() *MemRepository {
	return &MemRepository{orders: map[string]Order{}}
}

// Create implements Repository.
func (r *MemRepository) Create(_ context.Context, o Order) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.orders {
		if x.ID == o.ID || (o.IdempotencyKey != "" && x.UserID == o.UserID && x.IdempotencyKey == o.IdempotencyKey) {
			return ErrDuplicate
		}
	}
	r.orders[o.ID] = o
	return nil
}

// Get implements Repository.
func (r *MemRepository) Get(_ context.Context, id string) (Order, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o, ok := r.orders[id]
	if !ok {
		return Order{}, ErrNotFound
	}
	return o, nil
}

// GetByIdempotencyKey implements Repository.
func (r *MemRepository) GetByIdempotencyKey(_ context.Context, userID, key string) (Order, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range r.orders {
		if o.UserID == userID && o.IdempotencyKey == key {
			return o, nil
		}
	}
	return Order{}, ErrNotFound
}

// List implements Repository.
func (r *MemRepository) List(_ context.Context, userID string, after Position, limit int) ([]Order, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var list []Order
	for _, o := range r.orders {
		if o.UserID == userID && (after.IsZero() || newer(after, o)) {
			list = append(list, o)
		}
	}
	slices.SortFunc(list, func(a, b Order) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return list[:min(limit, len(list))], nil
}

// newer reports whether o comes after p in a newest-first list.
func newer(p Position, o Order) bool {
	return o.CreatedAt.Before(p.CreatedAt) || (o.CreatedAt.Equal(p.CreatedAt) && o.ID < p.ID)
}

// Update implements Repository.
func (r *MemRepository) Update(_ context.Context, o Order, from State) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur, ok := r.orders[o.ID]
	switch {
	case !ok:
		return ErrNotFound
	case cur.State() != from:
		return ErrConflict
	}
	cur.Status, cur.PaymentStatus = o.Status, o.PaymentStatus
	cur.PaymentID, cur.DeclineReason, cur.UpdatedAt = o.PaymentID, o.DeclineReason, o.UpdatedAt
	cur.CorrelationID = o.CorrelationID
	cur.NextPublishAt, cur.PublishAttempts = o.NextPublishAt, o.PublishAttempts
	r.orders[o.ID] = cur
	return nil
}

// Due implements Repository.
func (r *MemRepository) Due(_ context.Context, now time.Time, limit int) ([]Order, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var due []Order
	for _, o := range r.orders {
		if !o.NextPublishAt.IsZero() && !o.NextPublishAt.After(now) {
			due = append(due, o)
		}
	}
	slices.SortFunc(due, func(a, b Order) int { return a.NextPublishAt.Compare(b.NextPublishAt) })
	return due[:min(limit, len(due))], nil
}

// Reschedule implements Repository.
func (r *MemRepository) Reschedule(_ context.Context, id string, from, next time.Time, attempts int) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o, ok := r.orders[id]
	if !ok || !o.NextPublishAt.Equal(from) || from.IsZero() {
		return false, nil
	}
	o.NextPublishAt, o.PublishAttempts = next, attempts
	r.orders[id] = o
	return true, nil
}
