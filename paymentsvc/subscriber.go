package paymentsvc

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/go-kit/kit/endpoint"

	"github.com/orderflow/orderflow/transport/event"
	"github.com/orderflow/orderflow/transport/pubsub"
)

// MakeEventHandlers returns the handlers of the channels paymentsvc consumes.
func MakeEventHandlers(s *Service) map[string]pubsub.Handler {
	return map[string]pubsub.Handler{
		event.ChannelOrderCreated:   pubsub.NewSubscriber(makeChargeEndpoint(s), decodeOrderCreated),
		event.ChannelOrderCancelled: pubsub.NewSubscriber(makeRefundEndpoint(s), decodeOrderCancelled),
	}
}

type refundRequest struct {
	OrderID, CorrelationID string
}

func makeChargeEndpoint(s *Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		return nil, s.Charge(ctx, request.(ChargeRequest))
	}
}

func makeRefundEndpoint(s *Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		r := request.(refundRequest)
		return nil, s.Refund(ctx, r.OrderID, r.CorrelationID)
	}
}

func decodeOrderCreated(_ context.Context, payload []byte) (any, error) {
	var e event.OrderCreated
	if err := json.Unmarshal(payload, &e); err != nil {
		return nil, err
	}
	if err := e.Check(event.TypeOrderCreated); err != nil {
		return nil, err
	}
	if e.Amount <= 0 || e.Currency == "" {
		return nil, fmt.Errorf("amount %d %q is not chargeable", e.Amount, e.Currency)
	}
	return ChargeRequest{
		OrderID: e.OrderID, UserID: e.UserID, ProductID: e.ProductID,
		Amount: e.Amount, Currency: e.Currency, CorrelationID: e.CorrelationID,
	}, nil
}

func decodeOrderCancelled(_ context.Context, payload []byte) (any, error) {
	var e event.OrderCancelled
	if err := json.Unmarshal(payload, &e); err != nil {
		return nil, err
	}
	if err := e.Check(event.TypeOrderCancelled); err != nil {
		return nil, err
	}
	return refundRequest{OrderID: e.OrderID, CorrelationID: e.CorrelationID}, nil
}
