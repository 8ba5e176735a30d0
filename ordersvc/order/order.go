package order

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Status is where an order is in its lifecycle.
type Status string

// Order statuses. Failed, Cancelled and Confirmed are final.
const (
	Processing Status = "Processing"
	Success    Status = "Success"
	Failed     Status = "Failed"
	Cancelled  Status = "Cancelled"
	Confirmed  Status = "Confirmed"
)

// PaymentStatus is where an order's payment is.
type PaymentStatus string

// Payment statuses. Declined and Refunded are final; Paid is final unless the
// order is cancelled.
const (
	Pending   PaymentStatus = "Pending"
	Paid      PaymentStatus = "Paid"
	Declined  PaymentStatus = "Declined"
	Refunding PaymentStatus = "Refunding"
	Refunded  PaymentStatus = "Refunded"
)

// Order is an order and where it and its payment are.
type Order struct {
	ID            string
	UserID        string
	ProductID     string
	ProductName   string
	Amount        Sen
	Status        Status
	PaymentStatus PaymentStatus
	PaymentID     string
	DeclineReason string
	CreatedAt     time.Time
	UpdatedAt     time.Time

	// CorrelationID is the request id of the POST that created the order; the
	// events about the order carry it.
	CorrelationID string
	// IdempotencyKey and RequestHash identify the request that created the
	// order, so that a retry of it returns this order.
	IdempotencyKey string
	RequestHash    string

	// Version counts the changes since the order was created: the order
	// as created is version 0, and each transition below returns the next
	// version, or the order at its version when it changes nothing.
	Version int
}

// State is the pair of statuses a conditional update starts from.
type State struct {
	Status        Status
	PaymentStatus PaymentStatus
}

// State returns the order's statuses.
func (o Order) State() State { return State{o.Status, o.PaymentStatus} }

// Final reports whether the order can change no more.
func (o Order) Final() bool {
	switch o.Status {
	case Failed, Confirmed:
		return true
	case Cancelled:
		return o.PaymentStatus == Refunded || o.PaymentStatus == Declined
	}
	return false
}

// Awaits returns what the order awaits from paymentsvc: Pending (the
// outcome of its payment), Refunding (its refund), or "" (nothing).
func (o Order) Awaits() PaymentStatus {
	if o.PaymentStatus == Pending || o.PaymentStatus == Refunding {
		return o.PaymentStatus
	}
	return ""
}

// Answered reports whether the order no longer awaits what it awaited while
// its payment was status (Pending or Refunding). Payment statuses never
// return to Pending or Refunding once left, so an order read at any version
// that answers this is proof that the answer came.
func (o Order) Answered(status PaymentStatus) bool {
	switch status {
	case Pending:
		return o.PaymentStatus != Pending
	case Refunding:
		// A refund ends Refunded; an order whose refund never started
		// (its payment was declined) awaits none.
		return o.PaymentStatus == Refunded || o.PaymentStatus == Declined
	}
	return true
}

// AsCreated returns the order as it was when it was created, before its
// payment or a client changed it: what the answer to its creation showed.
func (o Order) AsCreated() Order {
	o.Status, o.PaymentStatus, o.UpdatedAt, o.Version = Processing, Pending, o.CreatedAt, 0
	o.PaymentID, o.DeclineReason = "", ""
	return o
}

// TransitionError is the error of a status change the lifecycle forbids.
type TransitionError struct {
	From, To Status
	Allowed  []Status
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("order is %s: it cannot become %s (allowed: %v)", e.From, e.To, e.Allowed)
}

// ErrStatusNotSettable is the error of a PUT asking for a status the server owns.
var ErrStatusNotSettable = errors.New("only Cancelled and Confirmed can be set")

// userTransitions are the status changes a client may ask for.
var userTransitions = map[Status][]Status{
	Processing: {Cancelled},
	Success:    {Cancelled, Confirmed},
}

// SetStatus returns the order after a client asked for status to. Asking
// for the current status changes nothing. Cancelling a paid order starts its
// refund.
func (o Order) SetStatus(to Status, now time.Time) (Order, error) {
	if to != Cancelled && to != Confirmed {
		return o, ErrStatusNotSettable
	}
	if o.Status == to {
		return o, nil
	}
	allowed := userTransitions[o.Status]
	if !slices.Contains(allowed, to) {
		return o, &TransitionError{From: o.Status, To: to, Allowed: allowed}
	}
	o.Status, o.UpdatedAt, o.Version = to, now, o.Version+1
	if to == Cancelled && o.PaymentStatus == Paid {
		o.PaymentStatus = Refunding
	}
	return o, nil
}

// PaymentOutcome is what paymentsvc reports about charging an order.
type PaymentOutcome struct {
	OrderID       string
	PaymentID     string
	Paid          bool
	Reason        string
	CorrelationID string
}

// ApplyPayment returns the order after its payment outcome arrived: only a
// Pending payment takes an outcome, so duplicate and stale events change
// nothing (the order comes back at its Version). A cancelled order whose
// payment comes back Paid is refunded.
func (o Order) ApplyPayment(p PaymentOutcome, now time.Time) Order {
	if o.PaymentStatus != Pending {
		return o
	}
	o.PaymentID, o.UpdatedAt, o.Version = p.PaymentID, now, o.Version+1
	switch {
	case p.Paid && o.Status == Cancelled:
		o.PaymentStatus = Refunding
	case p.Paid:
		o.Status, o.PaymentStatus = Success, Paid
	case o.Status == Cancelled:
		o.PaymentStatus, o.DeclineReason = Declined, p.Reason
	default:
		o.Status, o.PaymentStatus, o.DeclineReason = Failed, Declined, p.Reason
	}
	return o
}

// ApplyRefund returns the order after paymentsvc reported its refund; a
// refund not awaited changes nothing.
func (o Order) ApplyRefund(now time.Time) Order {
	if o.PaymentStatus != Refunding {
		return o
	}
	o.PaymentStatus, o.UpdatedAt, o.Version = Refunded, now, o.Version+1
	return o
}
