// Package orderapi is ordersvc's API: the endpoints of order.Service, the
// internal HTTP API that serves them to the gateway, and the client of that
// API, which maps its error codes back to package order's errors and stops
// calling a failing ordersvc for a while (a circuit breaker). It also holds
// the endpoints of the payment events ordersvc applies, which package
// orderevents feeds from Redis.
package orderapi

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/orderflow/orderflow/ordersvc/order"
)

// Endpoints collects the endpoints of the order API. On the server they wrap
// an order.Service; on the client they make HTTP calls. Either way they
// implement order.Service too.
type Endpoints struct {
	CreateOrderEndpoint endpoint.Endpoint
	GetOrderEndpoint    endpoint.Endpoint
	ListOrdersEndpoint  endpoint.Endpoint
	SetStatusEndpoint   endpoint.Endpoint
}

// MakeServerEndpoints returns the endpoints of s.
func MakeServerEndpoints(s order.Service) Endpoints {
	return Endpoints{
		CreateOrderEndpoint: MakeCreateOrderEndpoint(s),
		GetOrderEndpoint:    MakeGetOrderEndpoint(s),
		ListOrdersEndpoint:  MakeListOrdersEndpoint(s),
		SetStatusEndpoint:   MakeSetStatusEndpoint(s),
	}
}

// CreateOrderRequest asks for a new order.
type CreateOrderRequest struct {
	NewOrder order.NewOrder
}

// CreateOrderResponse is the created (or replayed) order.
type CreateOrderResponse struct {
	Order    order.Order
	Replayed bool
	Err      error
}

// Failed implements endpoint.Failer.
func (r CreateOrderResponse) Failed() error { return r.Err }

// GetOrderRequest asks for one order.
type GetOrderRequest struct {
	ID string
}

// OrderResponse is one order.
type OrderResponse struct {
	Order order.Order
	Err   error
}

// Failed implements endpoint.Failer.
func (r OrderResponse) Failed() error { return r.Err }

// ListOrdersRequest asks for a page of a user's orders.
type ListOrdersRequest struct {
	UserID string
	Cursor string
	Limit  int
}

// ListOrdersResponse is a page of orders.
type ListOrdersResponse struct {
	Page order.Page
	Err  error
}

// Failed implements endpoint.Failer.
func (r ListOrdersResponse) Failed() error { return r.Err }

// SetStatusRequest asks for an order to be cancelled or confirmed.
type SetStatusRequest struct {
	ID     string
	Status order.Status
}

// MakeCreateOrderEndpoint returns the endpoint of Service.CreateOrder.
func MakeCreateOrderEndpoint(s order.Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(CreateOrderRequest)
		o, replayed, err := s.CreateOrder(ctx, req.NewOrder)
		return CreateOrderResponse{Order: o, Replayed: replayed, Err: err}, nil
	}
}

// MakeGetOrderEndpoint returns the endpoint of Service.GetOrder.
func MakeGetOrderEndpoint(s order.Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(GetOrderRequest)
		o, err := s.GetOrder(ctx, req.ID)
		return OrderResponse{Order: o, Err: err}, nil
	}
}

// MakeListOrdersEndpoint returns the endpoint of Service.ListOrders.
func MakeListOrdersEndpoint(s order.Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(ListOrdersRequest)
		p, err := s.ListOrders(ctx, req.UserID, req.Cursor, req.Limit)
		return ListOrdersResponse{Page: p, Err: err}, nil
	}
}

// MakeSetStatusEndpoint returns the endpoint of Service.SetStatus.
func MakeSetStatusEndpoint(s order.Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(SetStatusRequest)
		o, err := s.SetStatus(ctx, req.ID, req.Status)
		return OrderResponse{Order: o, Err: err}, nil
	}
}

// CreateOrder implements order.Service by calling the endpoint.
func (e Endpoints) CreateOrder(ctx context.Context, n order.NewOrder) (order.Order, bool, error) {
	resp, err := e.CreateOrderEndpoint(ctx, CreateOrderRequest{NewOrder: n})
	if err != nil {
		return order.Order{}, false, err
	}
	r := resp.(CreateOrderResponse)
	return r.Order, r.Replayed, r.Err
}

// GetOrder implements order.Service by calling the endpoint.
func (e Endpoints) GetOrder(ctx context.Context, id string) (order.Order, error) {
	resp, err := e.GetOrderEndpoint(ctx, GetOrderRequest{ID: id})
	if err != nil {
		return order.Order{}, err
	}
	r := resp.(OrderResponse)
	return r.Order, r.Err
}

// ListOrders implements order.Service by calling the endpoint.
func (e Endpoints) ListOrders(ctx context.Context, userID, cursor string, limit int) (order.Page, error) {
	resp, err := e.ListOrdersEndpoint(ctx, ListOrdersRequest{UserID: userID, Cursor: cursor, Limit: limit})
	if err != nil {
		return order.Page{}, err
	}
	r := resp.(ListOrdersResponse)
	return r.Page, r.Err
}

// SetStatus implements order.Service by calling the endpoint.
func (e Endpoints) SetStatus(ctx context.Context, id string, to order.Status) (order.Order, error) {
	resp, err := e.SetStatusEndpoint(ctx, SetStatusRequest{ID: id, Status: to})
	if err != nil {
		return order.Order{}, err
	}
	r := resp.(OrderResponse)
	return r.Order, r.Err
}

// EventEndpoints are the endpoints of the payment events ordersvc applies.
type EventEndpoints struct {
	ApplyPaymentEndpoint endpoint.Endpoint
	ApplyRefundEndpoint  endpoint.Endpoint
}

// ApplyRefundRequest says that an order's payment was refunded.
type ApplyRefundRequest struct {
	OrderID, CorrelationID string
}

// MakeEventEndpoints returns the endpoints of s's payment events: requests
// are an order.PaymentOutcome and an ApplyRefundRequest, and an endpoint's
// error is the event's failure.
func MakeEventEndpoints(s order.PaymentEvents) EventEndpoints {
	return EventEndpoints{
		ApplyPaymentEndpoint: func(ctx context.Context, request any) (any, error) {
			_, err := s.ApplyPayment(ctx, request.(order.PaymentOutcome))
			return nil, err
		},
		ApplyRefundEndpoint: func(ctx context.Context, request any) (any, error) {
			_, err := s.ApplyRefund(ctx, request.(ApplyRefundRequest).OrderID)
			return nil, err
		},
	}
}
