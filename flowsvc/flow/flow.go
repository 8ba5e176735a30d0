// Package flow is what the flow page shows: the steps each order has taken
// through the services, as the events on Redis report them, kept for the
// most recent orders, and handed to whoever watches as they come.
//
// A Board records every step it is told of. It remembers the steps of the
// last orders (a fixed number of them), so a new watcher first gets that
// history, then every step live. A watcher that reads too slowly misses
// steps rather than holding up the others: each has a buffer of its own,
// and a step that finds it full is dropped for that watcher and counted.
package flow

import "time"

// Names of the steps of an order, one per event the services publish.
const (
	// Created: ordersvc stored the order and published orders.created.
	Created = "created"
	// Paid and Declined: paymentsvc charged the order and published the
	// outcome on payments.processed.
	Paid     = "paid"
	Declined = "declined"
	// Cancelled: ordersvc cancelled the order and published
	// orders.cancelled, asking for a refund.
	Cancelled = "cancelled"
	// Refunded: paymentsvc refunded the payment and published
	// payments.refunded.
	Refunded = "refunded"
)

// Step is one step of an order's journey.
type Step struct {
	OrderID string
	// Name is one of Created, Paid, Declined, Cancelled, Refunded.
	Name string
	// At is when the service that took the step published it.
	At            time.Time
	CorrelationID string
	// Detail says more, for a person: the product and amount, the reason
	// of a decline, the payment's id.
	Detail string
	// Times counts how often this step of the order has been seen, this
	// time included. Set by Board.Record.
	Times int
}

// Again reports whether the step was seen before: a redelivery or a
// duplicate of its event.
func (s Step) Again() bool { return s.Times > 1 }

// settles reports whether the step ends the charge of an order: its
// outcome, paid or declined.
func (s Step) settles() bool { return s.Name == Paid || s.Name == Declined }
