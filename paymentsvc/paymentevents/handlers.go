package paymentevents

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/orderflow/orderflow/paymentsvc/payment"
	"github.com/orderflow/orderflow/paymentsvc/paymentapi"
	"github.com/orderflow/orderflow/transport/event"
	"github.com/orderflow/orderflow/transport/pubsub"
)

// MakeHandlers returns the handlers of the channels paymentsvc consumes:
// orders.created calls the charge endpoint, orders.cancelled the refund
// endpoint. A message that does not decode is pubsub.ErrUndecodable.
func MakeHandlers(e paymentapi.Endpoints) map[string]pubsub.Handler {
	return map[string]pubsub.Handler{
		event.ChannelOrderCreated:   pubsub.NewSubscriber(e.ChargeEndpoint, decodeOrderCreated),
		event.ChannelOrderCancelled: pubsub.NewSubscriber(e.RefundEndpoint, decodeOrderCancelled),
	}
}

// decodeOrderCreated decodes an orders.created message into a
// paymentapi.ChargeRequest. It rejects another type of message, an orderId
// that is not an order id, and an amount that cannot be charged.
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
	return paymentapi.ChargeRequest{Charge: payment.ChargeRequest{
		OrderID: e.OrderID, UserID: e.UserID, ProductID: e.ProductID,
		Amount: e.Amount, Currency: e.Currency, CorrelationID: e.CorrelationID,
	}}, nil
}

// decodeOrderCancelled decodes an orders.cancelled message into a
// paymentapi.RefundRequest. It rejects another type of message and an
// orderId that is not an order id.
func decodeOrderCancelled(_ context.Context, payload []byte) (any, error) {
	var e event.OrderCancelled
	if err := json.Unmarshal(payload, &e); err != nil {
		return nil, err
	}
	if err := e.Check(event.TypeOrderCancelled); err != nil {
		return nil, err
	}
	return paymentapi.RefundRequest{Refund: payment.RefundRequest{OrderID: e.OrderID, CorrelationID: e.CorrelationID}}, nil
}
