package ordersvc

import (
	"context"

	"github.com/go-kit/kit/endpoint"
)

// Endpoints collects the endpoints of the order API. On the server it wraps
// a Service; on the client it wraps HTTP calls, and is itself a Service.
type Endpoints struct {
	CreateOrderEndpoint endpoint.Endpoint
	GetOrderEndpoint    endpoint.Endpoint
	ListOrdersEndpoint  endpoint.Endpoint
	SetStatusEndpoint   endpoint.Endpoint
}

// MakeServerEndpoints returns the endpoints of s.
func MakeServerEndpoints(s Service) Endpoints {
	return Endpoints{
		CreateOrderEndpoint: MakeCreateOrderEndpoint(s),
		GetOrderEndpoint:    MakeGetOrderEndpoint(s),
		ListOrdersEndpoint:  MakeListOrdersEndpoint(s),
		SetStatusEndpoint:   MakeSetStatusEndpoint(s),
	}
}

// CreateOrderRequest asks for a new order.
type CreateOrderRequest struct {
	NewOrder NewOrder
}

// CreateOrderResponse is the created (or replayed) order.
type CreateOrderResponse struct {
	Order    Order
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
	Order Order
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
	Page Page
	Err  error
}

// Failed implements endpoint.Failer.
func (r ListOrdersResponse) Failed() error { return r.Err }

// SetStatusRequest asks for an order to be cancelled or confirmed.
type SetStatusRequest struct {
	ID     string
	Status Status
}

// MakeCreateOrderEndpoint returns the endpoint of Service.CreateOrder.
func MakeCreateOrderEndpoint(s Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(CreateOrderRequest)
		o, replayed, err := s.CreateOrder(ctx, req.NewOrder)
		return CreateOrderResponse{Order: o, Replayed: replayed, Err: err}, nil
	}
}

// MakeGetOrderEndpoint returns the endpoint of Service.GetOrder.
func MakeGetOrderEndpoint(s Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(GetOrderRequest)
		o, err := s.GetOrder(ctx, req.ID)
		return OrderResponse{Order: o, Err: err}, nil
	}
}

// MakeListOrdersEndpoint returns the endpoint of Service.ListOrders.
func MakeListOrdersEndpoint(s Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(ListOrdersRequest)
		p, err := s.ListOrders(ctx, req.UserID, req.Cursor, req.Limit)
		return ListOrdersResponse{Page: p, Err: err}, nil
	}
}

// MakeSetStatusEndpoint returns the endpoint of Service.SetStatus.
func MakeSetStatusEndpoint(s Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(SetStatusRequest)
		o, err := s.SetStatus(ctx, req.ID, req.Status)
		return OrderResponse{Order: o, Err: err}, nil
	}
}

// CreateOrder implements Service by calling the endpoint.
func (e Endpoints) CreateOrder(ctx context.Context, n NewOrder) (Order, bool, error) {
	resp, err := e.CreateOrderEndpoint(ctx, CreateOrderRequest{NewOrder: n})
	if err != nil {
		return Order{}, false, err
	}
	r := resp.(CreateOrderResponse)
	return r.Order, r.Replayed, r.Err
}

// GetOrder implements Service by calling the endpoint.
func (e Endpoints) GetOrder(ctx context.Context, id string) (Order, error) {
	resp, err := e.GetOrderEndpoint(ctx, GetOrderRequest{ID: id})
	if err != nil {
		return Order{}, err
	}
	r := resp.(OrderResponse)
	return r.Order, r.Err
}

// ListOrders implements Service by calling the endpoint.
func (e Endpoints) ListOrders(ctx context.Context, userID, cursor string, limit int) (Page, error) {
	resp, err := e.ListOrdersEndpoint(ctx, ListOrdersRequest{UserID: userID, Cursor: cursor, Limit: limit})
	if err != nil {
		return Page{}, err
	}
	r := resp.(ListOrdersResponse)
	return r.Page, r.Err
}

// SetStatus implements Service by calling the endpoint.
func (e Endpoints) SetStatus(ctx context.Context, id string, to Status) (Order, error) {
	resp, err := e.SetStatusEndpoint(ctx, SetStatusRequest{ID: id, Status: to})
	if err != nil {
		return Order{}, err
	}
	r := resp.(OrderResponse)
	return r.Order, r.Err
}
