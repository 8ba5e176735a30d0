// Package orderapi is ordersvc's API: the endpoints of order.Service, the
// internal HTTP API that serves them to the gateway, and the client of that
// API, which maps its error codes back to package order's errors and stops
// calling a failing ordersvc for a while (a circuit breaker). The endpoints
// of the payment events ordersvc applies are package eventapi's.
package orderapi

import (
	"context"
	"fmt"

	"github.com/go-kit/kit/endpoint"

	"github.com/orderflow/orderflow/internal/instrument"

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

// MakeServerEndpoints returns the endpoints of s, each decorated by what
// mw gives for its method (instrument.Middlewares); nil decorates nothing.
func MakeServerEndpoints(s order.Service, mw instrument.Decorators) Endpoints {
	return Endpoints{
		CreateOrderEndpoint: mw.Decorate("CreateOrder", MakeCreateOrderEndpoint(s)),
		GetOrderEndpoint:    mw.Decorate("GetOrder", MakeGetOrderEndpoint(s)),
		ListOrdersEndpoint:  mw.Decorate("ListOrders", MakeListOrdersEndpoint(s)),
		SetStatusEndpoint:   mw.Decorate("SetStatus", MakeSetStatusEndpoint(s)),
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

// Keyvals names the order for a log line.
func (r CreateOrderResponse) Keyvals() []any {
	return []any{"order_id", r.Order.ID, "replayed", r.Replayed}
}

// Keyvals names the user for a log line.
func (r CreateOrderRequest) Keyvals() []any { return []any{"user_id", r.NewOrder.UserID} }

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

// Keyvals says what became of the order, for a log line.
func (r OrderResponse) Keyvals() []any {
	if r.Order.ID == "" {
		return nil
	}
	return []any{"state", string(r.Order.Status) + "/" + string(r.Order.PaymentStatus)}
}

// Keyvals names the order for a log line.
func (r GetOrderRequest) Keyvals() []any { return []any{"order_id", r.ID} }

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

// Keyvals names the user for a log line.
func (r ListOrdersRequest) Keyvals() []any { return []any{"user_id", r.UserID} }

// SetStatusRequest asks for an order to be cancelled or confirmed.
type SetStatusRequest struct {
	ID     string
	Status order.Status
}

// Keyvals names the order and what was asked, for a log line.
func (r SetStatusRequest) Keyvals() []any { return []any{"order_id", r.ID, "asked", string(r.Status)} }

// MakeCreateOrderEndpoint returns the endpoint of Service.CreateOrder.
func MakeCreateOrderEndpoint(s order.Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req, ok := request.(CreateOrderRequest)
		if !ok {
			return nil, wrongRequest(request, "CreateOrderRequest")
		}
		o, replayed, err := s.CreateOrder(ctx, req.NewOrder)
		return CreateOrderResponse{Order: o, Replayed: replayed, Err: err}, nil
	}
}

// MakeGetOrderEndpoint returns the endpoint of Service.GetOrder.
func MakeGetOrderEndpoint(s order.Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req, ok := request.(GetOrderRequest)
		if !ok {
			return nil, wrongRequest(request, "GetOrderRequest")
		}
		o, err := s.GetOrder(ctx, req.ID)
		return OrderResponse{Order: o, Err: err}, nil
	}
}

// MakeListOrdersEndpoint returns the endpoint of Service.ListOrders.
func MakeListOrdersEndpoint(s order.Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req, ok := request.(ListOrdersRequest)
		if !ok {
			return nil, wrongRequest(request, "ListOrdersRequest")
		}
		p, err := s.ListOrders(ctx, req.UserID, req.Cursor, req.Limit)
		return ListOrdersResponse{Page: p, Err: err}, nil
	}
}

// MakeSetStatusEndpoint returns the endpoint of Service.SetStatus.
func MakeSetStatusEndpoint(s order.Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req, ok := request.(SetStatusRequest)
		if !ok {
			return nil, wrongRequest(request, "SetStatusRequest")
		}
		o, err := s.SetStatus(ctx, req.ID, req.Status)
		return OrderResponse{Order: o, Err: err}, nil
	}
}

// wrongRequest is the error of an endpoint given a request of another
// type: a mistake in the wiring, which no request of a client can make.
func wrongRequest(request any, want string) error {
	return fmt.Errorf("request of type %T, want orderapi.%s", request, want)
}

// call calls an endpoint and returns its response, which is a T.
func call[T any](resp any, err error) (T, error) {
	var r T
	if err != nil {
		return r, err
	}
	r, ok := resp.(T)
	if !ok {
		return r, fmt.Errorf("response of type %T, want %T", resp, r)
	}
	return r, nil
}

// CreateOrder implements order.Service by calling the endpoint.
func (e Endpoints) CreateOrder(ctx context.Context, n order.NewOrder) (order.Order, bool, error) {
	r, err := call[CreateOrderResponse](e.CreateOrderEndpoint(ctx, CreateOrderRequest{NewOrder: n}))
	if err != nil {
		return order.Order{}, false, err
	}
	return r.Order, r.Replayed, r.Err
}

// GetOrder implements order.Service by calling the endpoint.
func (e Endpoints) GetOrder(ctx context.Context, id string) (order.Order, error) {
	r, err := call[OrderResponse](e.GetOrderEndpoint(ctx, GetOrderRequest{ID: id}))
	if err != nil {
		return order.Order{}, err
	}
	return r.Order, r.Err
}

// ListOrders implements order.Service by calling the endpoint.
func (e Endpoints) ListOrders(ctx context.Context, userID, cursor string, limit int) (order.Page, error) {
	r, err := call[ListOrdersResponse](e.ListOrdersEndpoint(ctx, ListOrdersRequest{UserID: userID, Cursor: cursor, Limit: limit}))
	if err != nil {
		return order.Page{}, err
	}
	return r.Page, r.Err
}

// SetStatus implements order.Service by calling the endpoint.
func (e Endpoints) SetStatus(ctx context.Context, id string, to order.Status) (order.Order, error) {
	r, err := call[OrderResponse](e.SetStatusEndpoint(ctx, SetStatusRequest{ID: id, Status: to}))
	if err != nil {
		return order.Order{}, err
	}
	return r.Order, r.Err
}
