// Package eventapi is the endpoints of the payment events ordersvc applies
// (order.PaymentEvents), which package orderevents feeds from Redis. They
// get the same decorators as the endpoints of the HTTP API (package
// instrument), and carry the Service's errors in their responses, as
// package orderapi's do.
package eventapi

import (
	"context"
	"fmt"

	"github.com/go-kit/kit/endpoint"

	"github.com/orderflow/orderflow/internal/instrument"

	"github.com/orderflow/orderflow/ordersvc/order"
)

// Endpoints collects the endpoints of order.PaymentEvents.
type Endpoints struct {
	ApplyPaymentEndpoint endpoint.Endpoint
	ApplyRefundEndpoint  endpoint.Endpoint
}

// MakeEndpoints returns the endpoints of s, each decorated by what mw
// gives for its method (instrument.Middlewares); nil decorates nothing.
func MakeEndpoints(s order.PaymentEvents, mw instrument.Decorators) Endpoints {
	return Endpoints{
		ApplyPaymentEndpoint: mw.Decorate("ApplyPayment", MakeApplyPaymentEndpoint(s)),
		ApplyRefundEndpoint:  mw.Decorate("ApplyRefund", MakeApplyRefundEndpoint(s)),
	}
}

// ApplyPaymentRequest says how an order's payment ended.
type ApplyPaymentRequest struct {
	Outcome order.PaymentOutcome
}

// Keyvals names the order and the outcome, for a log line.
func (r ApplyPaymentRequest) Keyvals() []any {
	return []any{"order_id", r.Outcome.OrderID, "paid", r.Outcome.Paid, "payment_id", r.Outcome.PaymentID}
}

// ApplyRefundRequest says that an order's payment was refunded.
type ApplyRefundRequest struct {
	OrderID string
}

// Keyvals names the order, for a log line.
func (r ApplyRefundRequest) Keyvals() []any { return []any{"order_id", r.OrderID} }

// OrderResponse is the order after the event, or why it could not be
// applied.
type OrderResponse struct {
	Order order.Order
	Err   error
}

// Failed implements endpoint.Failer.
func (r OrderResponse) Failed() error { return r.Err }

// Keyvals says what the order is now, for a log line.
func (r OrderResponse) Keyvals() []any {
	if r.Order.ID == "" {
		return nil
	}
	return []any{"state", string(r.Order.Status) + "/" + string(r.Order.PaymentStatus), "version", r.Order.Version}
}

// MakeApplyPaymentEndpoint returns the endpoint of ApplyPayment; its
// request is an ApplyPaymentRequest.
func MakeApplyPaymentEndpoint(s order.PaymentEvents) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req, ok := request.(ApplyPaymentRequest)
		if !ok {
			return nil, fmt.Errorf("request of type %T, want eventapi.ApplyPaymentRequest", request)
		}
		o, err := s.ApplyPayment(ctx, req.Outcome)
		return OrderResponse{Order: o, Err: err}, nil
	}
}

// MakeApplyRefundEndpoint returns the endpoint of ApplyRefund; its request
// is an ApplyRefundRequest.
func MakeApplyRefundEndpoint(s order.PaymentEvents) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req, ok := request.(ApplyRefundRequest)
		if !ok {
			return nil, fmt.Errorf("request of type %T, want eventapi.ApplyRefundRequest", request)
		}
		o, err := s.ApplyRefund(ctx, req.OrderID)
		return OrderResponse{Order: o, Err: err}, nil
	}
}
