// Package payment is paymentsvc's domain and use cases: a payment and its
// statuses, the Service that charges an order at most once and refunds a
// cancelled one, and the ports it needs (a Charger for the payment
// provider, a Repository for the payments, Events for the reports to
// ordersvc). Package paymentapi makes its endpoints, which package
// instrument logs and counts.
//
// It links no database, broker or HTTP package: paymentstore, paymentevents
// and package paymentsvc adapt it to MongoDB, Redis and the process.
package payment

import "time"

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
	ID            string // 24 hexadecimal characters, in the shape of a MongoDB ObjectID
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
	Amount        int64 // in the currency's smallest unit
	Currency      string
	CorrelationID string
}

// RefundRequest asks for the payment of a cancelled order to be refunded.
type RefundRequest struct {
	OrderID       string
	CorrelationID string
}
