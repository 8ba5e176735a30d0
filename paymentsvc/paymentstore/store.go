// Package paymentstore is payment.Repository on a docstore.Database: the
// Store. On mongostore's Database it keeps paymentsvc's payments in MongoDB;
// on docstore.NewMemory() it is the in-memory repository of fast tests.
//
// It maps docstore's errors to payment's: docstore.ErrNotFound to
// payment.ErrNotFound, docstore.ErrDuplicate to payment.ErrDuplicate, and
// wraps docstore.ErrUnavailable in payment.ErrUnavailable.
package paymentstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/paymentsvc/payment"
)

// Store is payment.Repository on a docstore.Database. Its collections, each
// addressed by _id only:
//
//	payments          _id the order id                      the provider's answer, once
//	refunds           _id the order id                      the refund, once
//	payment_attempts  _id "<orderId>/<charge|refund>/<n>"   who may call the provider, until when
//
// A payment's _id is its order's id, so "at most one payment per order" is
// the uniqueness of the _id. The payment's own id is stored as an ObjectID.
type Store struct {
	payments, refunds, attempts docstore.Collection
}

// NewStore returns the Store of db, creating its collections.
func NewStore(ctx context.Context, db docstore.Database) (*Store, error) {
	// Created now: FerretDB fails some of the concurrent first inserts that
	// would create a collection.
	for _, name := range []string{"payments", "refunds", "payment_attempts"} {
		if err := db.CreateCollection(ctx, name); err != nil {
			return nil, fmt.Errorf("create collection %s: %w", name, storeErr(err))
		}
	}
	return &Store{payments: db.Collection("payments"), refunds: db.Collection("refunds"), attempts: db.Collection("payment_attempts")}, nil
}

type paymentDoc struct {
	OrderID       string        `bson:"_id"`
	ID            bson.ObjectID `bson:"paymentId"`
	UserID        string        `bson:"userId"`
	ProductID     string        `bson:"productId"`
	Amount        int64         `bson:"amount"`
	Currency      string        `bson:"currency"`
	Status        string        `bson:"status"`
	Reason        string        `bson:"reason,omitempty"`
	CorrelationID string        `bson:"correlationId,omitempty"`
	CreatedAt     time.Time     `bson:"createdAt"`
}

type refundDoc struct {
	OrderID       string    `bson:"_id"`
	CorrelationID string    `bson:"correlationId,omitempty"`
	RefundedAt    time.Time `bson:"refundedAt"`
}

type attemptDoc struct {
	ID         string    `bson:"_id"` // "<orderId>/<work>/<n>"
	Replica    string    `bson:"replica"`
	At         time.Time `bson:"at"`
	LeaseUntil time.Time `bson:"leaseUntil"`
}

func attemptID(orderID string, work payment.Work, n int) string {
	return orderID + "/" + string(work) + "/" + strconv.Itoa(n)
}

// storeErr is err with docstore's sentinels replaced by payment's.
func storeErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, docstore.ErrNotFound):
		return payment.ErrNotFound
	case errors.Is(err, docstore.ErrDuplicate):
		return payment.ErrDuplicate
	case errors.Is(err, docstore.ErrUnavailable):
		return unavailableError{err}
	}
	return err
}

// unavailableError is a failure to reach the store, as payment.ErrUnavailable.
// Its message is the store's.
type unavailableError struct{ err error }

func (e unavailableError) Error() string   { return e.err.Error() }
func (e unavailableError) Unwrap() []error { return []error{payment.ErrUnavailable, e.err} }

// Claim implements payment.Repository.
func (s *Store) Claim(ctx context.Context, a payment.Attempt) error {
	return storeErr(s.attempts.Insert(ctx, attemptDoc{
		ID: attemptID(a.OrderID, a.Work, a.N), Replica: a.Replica, At: a.At, LeaseUntil: a.LeaseUntil,
	}))
}

// Attempt implements payment.Repository.
func (s *Store) Attempt(ctx context.Context, orderID string, work payment.Work, n int) (payment.Attempt, error) {
	var d attemptDoc
	if err := s.attempts.Find(ctx, attemptID(orderID, work, n), &d); err != nil {
		return payment.Attempt{}, storeErr(err)
	}
	return payment.Attempt{OrderID: orderID, Work: work, N: n, Replica: d.Replica, At: d.At.UTC(), LeaseUntil: d.LeaseUntil.UTC()}, nil
}

// Record implements payment.Repository.
func (s *Store) Record(ctx context.Context, p payment.Payment) error {
	id, err := bson.ObjectIDFromHex(p.ID)
	if err != nil {
		return fmt.Errorf("payment id %q: %w", p.ID, err)
	}
	return storeErr(s.payments.Insert(ctx, paymentDoc{
		OrderID: p.OrderID, ID: id, UserID: p.UserID, ProductID: p.ProductID,
		Amount: p.Amount, Currency: p.Currency, Status: string(p.Status), Reason: p.Reason,
		CorrelationID: p.CorrelationID, CreatedAt: p.CreatedAt,
	}))
}

// RecordRefund implements payment.Repository.
func (s *Store) RecordRefund(ctx context.Context, orderID, correlationID string, at time.Time) error {
	return storeErr(s.refunds.Insert(ctx, refundDoc{OrderID: orderID, CorrelationID: correlationID, RefundedAt: at}))
}

// Payment implements payment.Repository.
func (s *Store) Payment(ctx context.Context, orderID string) (payment.Payment, error) {
	var d paymentDoc
	if err := s.payments.Find(ctx, orderID, &d); err != nil {
		return payment.Payment{}, storeErr(err)
	}
	p := payment.Payment{
		ID: d.ID.Hex(), OrderID: d.OrderID, UserID: d.UserID, ProductID: d.ProductID,
		Amount: d.Amount, Currency: d.Currency, Status: payment.Status(d.Status), Reason: d.Reason,
		CorrelationID: d.CorrelationID, CreatedAt: d.CreatedAt.UTC(),
	}
	if p.Status != payment.Paid {
		return p, nil
	}
	var r refundDoc
	switch err := s.refunds.Find(ctx, orderID, &r); {
	case err == nil:
		p.Status, p.RefundedAt = payment.Refunded, r.RefundedAt.UTC()
	case !errors.Is(err, docstore.ErrNotFound):
		return payment.Payment{}, storeErr(err)
	}
	return p, nil
}
