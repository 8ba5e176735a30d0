// Package paymentapi is paymentsvc's endpoints: one go-kit endpoint per
// method of payment.Service, with its request and response types. Transports
// (package paymentevents) decode messages into these requests; the
// decorators of package instrument log and count each call.
//
// The Service's errors travel in the responses, which implement
// endpoint.Failer; an endpoint returns an error of its own only for a
// request of the wrong type. pubsub.Subscriber reports a failed response as
// the message's error, so the consumer counts it as failed and leaves the
// message to the sender's redelivery.
package paymentapi

import (
	"context"
	"fmt"

	"github.com/go-kit/kit/endpoint"

	"github.com/orderflow/orderflow/internal/instrument"

	"github.com/orderflow/orderflow/paymentsvc/payment"
)

// Endpoints collects the endpoints of payment.Service. It is itself a
// payment.Service that calls them.
type Endpoints struct {
	ChargeEndpoint endpoint.Endpoint
	RefundEndpoint endpoint.Endpoint
}

// MakeEndpoints returns the endpoints of s, each decorated by what mw
// gives for its method (instrument.Middlewares); nil decorates nothing.
func MakeEndpoints(s payment.Service, mw instrument.Decorators) Endpoints {
	return Endpoints{
		ChargeEndpoint: mw.Decorate("Charge", MakeChargeEndpoint(s)),
		RefundEndpoint: mw.Decorate("Refund", MakeRefundEndpoint(s)),
	}
}

// ChargeRequest asks for an order to be charged.
type ChargeRequest struct {
	Charge payment.ChargeRequest
}

// ChargeResponse is how a charge ended: the order's payment.
type ChargeResponse struct {
	Payment payment.Payment
	Err     error
}

// Failed implements endpoint.Failer.
func (r ChargeResponse) Failed() error { return r.Err }

// Keyvals says what the order and its payment are, for a log line.
func (r ChargeRequest) Keyvals() []any {
	return []any{"order_id", r.Charge.OrderID, "product_id", r.Charge.ProductID, "amount_sen", r.Charge.Amount}
}

// Keyvals says what became of the payment, for a log line.
func (r ChargeResponse) Keyvals() []any { return paymentKeyvals(r.Payment) }

func paymentKeyvals(p payment.Payment) []any {
	if p.ID == "" {
		return nil
	}
	kv := []any{"payment_id", p.ID, "payment_status", string(p.Status)}
	if p.Reason != "" {
		kv = append(kv, "reason", p.Reason)
	}
	return kv
}

// RefundRequest asks for the payment of a cancelled order to be refunded.
type RefundRequest struct {
	Refund payment.RefundRequest
}

// RefundResponse is how a refund ended: the refunded payment.
type RefundResponse struct {
	Payment payment.Payment
	Err     error
}

// Failed implements endpoint.Failer.
func (r RefundResponse) Failed() error { return r.Err }

// Keyvals names the order, for a log line.
func (r RefundRequest) Keyvals() []any { return []any{"order_id", r.Refund.OrderID} }

// Keyvals says what became of the payment, for a log line.
func (r RefundResponse) Keyvals() []any { return paymentKeyvals(r.Payment) }

// MakeChargeEndpoint returns the endpoint of Service.Charge; its request is
// a ChargeRequest, its response a ChargeResponse.
func MakeChargeEndpoint(s payment.Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req, ok := request.(ChargeRequest)
		if !ok {
			return nil, fmt.Errorf("charge endpoint: request of type %T, want paymentapi.ChargeRequest", request)
		}
		p, err := s.Charge(ctx, req.Charge)
		return ChargeResponse{Payment: p, Err: err}, nil
	}
}

// MakeRefundEndpoint returns the endpoint of Service.Refund; its request is
// a RefundRequest, its response a RefundResponse.
func MakeRefundEndpoint(s payment.Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req, ok := request.(RefundRequest)
		if !ok {
			return nil, fmt.Errorf("refund endpoint: request of type %T, want paymentapi.RefundRequest", request)
		}
		p, err := s.Refund(ctx, req.Refund)
		return RefundResponse{Payment: p, Err: err}, nil
	}
}

// Charge implements payment.Service by calling the endpoint.
func (e Endpoints) Charge(ctx context.Context, r payment.ChargeRequest) (payment.Payment, error) {
	resp, err := e.ChargeEndpoint(ctx, ChargeRequest{Charge: r})
	if err != nil {
		return payment.Payment{}, err
	}
	c := resp.(ChargeResponse)
	return c.Payment, c.Err
}

// Refund implements payment.Service by calling the endpoint.
func (e Endpoints) Refund(ctx context.Context, r payment.RefundRequest) (payment.Payment, error) {
	resp, err := e.RefundEndpoint(ctx, RefundRequest{Refund: r})
	if err != nil {
		return payment.Payment{}, err
	}
	c := resp.(RefundResponse)
	return c.Payment, c.Err
}
