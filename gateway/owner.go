package gateway

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/ordersvc/orderapi"
)

// owns reports whether the signed-in caller may see o: always when sign-in
// is off.
func owns(ctx context.Context, o order.Order) bool {
	sub := subjectFrom(ctx)
	return sub == "" || o.UserID == sub
}

// ownOrderOnly wraps the GetOrder endpoint: another user's order is not
// found, as an unknown id is, so that its existence is not revealed.
func ownOrderOnly(get endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		resp, err := get(ctx, request)
		if r, ok := resp.(orderapi.OrderResponse); err == nil && ok && r.Err == nil && !owns(ctx, r.Order) {
			return orderapi.OrderResponse{Err: order.ErrNotFound}, nil
		}
		return resp, err
	}
}

// ownOrderFirst wraps the SetStatus endpoint: with sign-in on, it reads the
// order first, and another user's order is not found and not changed.
func ownOrderFirst(get, set endpoint.Endpoint) endpoint.Endpoint {
	getOwn := ownOrderOnly(get)
	return func(ctx context.Context, request any) (any, error) {
		if subjectFrom(ctx) != "" {
			resp, err := getOwn(ctx, orderapi.GetOrderRequest{ID: request.(orderapi.SetStatusRequest).ID})
			if err != nil {
				return nil, err
			}
			if r := resp.(orderapi.OrderResponse); r.Err != nil {
				return r, nil
			}
		}
		return set(ctx, request)
	}
}
