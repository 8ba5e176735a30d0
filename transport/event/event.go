// Package event holds the contracts of the messages the services exchange over
// Redis pub/sub. Producers and consumers both import it, so a field renamed here
// is renamed on both sides of the wire.
//
// Every message is JSON and carries a Meta. Its Type names the contract and its
// version: a consumer that sees a Type it does not know logs it and drops it.
package event

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"time"
)

// Channels.
const (
	ChannelOrderCreated     = "orders.created"
	ChannelOrderCancelled   = "orders.cancelled"
	ChannelPaymentProcessed = "payments.processed"
	ChannelPaymentRefunded  = "payments.refunded"
)

// Types, one per contract version.
const (
	TypeOrderCreated     = "orders.created.v1"
	TypeOrderCancelled   = "orders.cancelled.v1"
	TypePaymentProcessed = "payments.processed.v1"
	TypePaymentRefunded  = "payments.refunded.v1"
)

// Payment outcomes carried by PaymentProcessed.
const (
	OutcomePaid     = "Paid"
	OutcomeDeclined = "Declined"
)

// Meta is the envelope every event carries.
type Meta struct {
	Type          string    `json:"type"`
	EventID       string    `json:"eventId"`
	OrderID       string    `json:"orderId"`
	CorrelationID string    `json:"correlationId"`
	OccurredAt    time.Time `json:"occurredAt"`
	// TraceParent is the W3C trace context of the work that published the
	// event, so that its handler continues the same trace.
	TraceParent string `json:"traceparent,omitempty"`
}

// NewMeta returns the envelope of a new event about an order: a fresh event id,
// and the current time.
func NewMeta(typ, orderID, correlationID string) Meta {
	return Meta{
		Type:          typ,
		EventID:       NewID(),
		OrderID:       orderID,
		CorrelationID: correlationID,
		OccurredAt:    time.Now().UTC(),
	}
}

// WithTrace returns m carrying traceparent.
func (m Meta) WithTrace(traceparent string) Meta {
	m.TraceParent = traceparent
	return m
}

// Check reports an envelope that is not of the contract typ, or whose
// orderId is not an order id (a 24-hex MongoDB ObjectID).
func (m Meta) Check(typ string) error {
	switch {
	case m.Type != typ:
		return fmt.Errorf("type %q, want %q", m.Type, typ)
	case !orderID.MatchString(m.OrderID):
		return fmt.Errorf("orderId %q is not an order id", m.OrderID)
	}
	return nil
}

var orderID = regexp.MustCompile(`^[0-9a-f]{24}$`)

// Money is an amount in the smallest unit of its currency (sen for MYR).
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// OrderCreated asks for an order to be charged. It is published when the order
// is stored and again by the redeliverer until a payment outcome comes back.
type OrderCreated struct {
	Meta
	UserID    string `json:"userId"`
	ProductID string `json:"productId"`
	Money
}

// OrderCancelled asks for the payment of a cancelled order to be refunded.
type OrderCancelled struct {
	Meta
	UserID string `json:"userId"`
	Money
}

// PaymentProcessed reports the outcome of charging an order.
type PaymentProcessed struct {
	Meta
	PaymentID string `json:"paymentId"`
	Outcome   string `json:"outcome"`
	Reason    string `json:"reason,omitempty"`
	Money
}

// PaymentRefunded reports that the payment of an order was refunded.
type PaymentRefunded struct {
	Meta
	PaymentID string `json:"paymentId"`
	Money
}

// NewID returns a random 128-bit identifier in hex.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	return hex.EncodeToString(b[:])
}
