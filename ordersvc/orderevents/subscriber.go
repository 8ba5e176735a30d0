package orderevents

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/orderflow/orderflow/ordersvc/eventapi"
	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/transport/event"
	"github.com/orderflow/orderflow/transport/pubsub"
)

// MakeHandlers returns the handlers of the channels ordersvc consumes.
func MakeHandlers(e eventapi.Endpoints) map[string]pubsub.Handler {
	return map[string]pubsub.Handler{
		event.ChannelPaymentProcessed: pubsub.NewSubscriber(e.ApplyPaymentEndpoint, decodePaymentProcessed),
		event.ChannelPaymentRefunded:  pubsub.NewSubscriber(e.ApplyRefundEndpoint, decodePaymentRefunded),
	}
}

func decodePaymentProcessed(_ context.Context, payload []byte) (any, error) {
	var e event.PaymentProcessed
	if err := decodeEvent(payload, &e, &e.Meta, event.TypePaymentProcessed); err != nil {
		return nil, err
	}
	if e.Outcome != event.OutcomePaid && e.Outcome != event.OutcomeDeclined {
		return nil, fmt.Errorf("unknown outcome %q", e.Outcome)
	}
	return eventapi.ApplyPaymentRequest{Outcome: order.PaymentOutcome{
		OrderID:       e.OrderID,
		PaymentID:     e.PaymentID,
		Paid:          e.Outcome == event.OutcomePaid,
		Reason:        e.Reason,
		CorrelationID: e.CorrelationID,
	}}, nil
}

func decodePaymentRefunded(_ context.Context, payload []byte) (any, error) {
	var e event.PaymentRefunded
	if err := decodeEvent(payload, &e, &e.Meta, event.TypePaymentRefunded); err != nil {
		return nil, err
	}
	return eventapi.ApplyRefundRequest{OrderID: e.OrderID}, nil
}

// decodeEvent decodes payload into v and checks its envelope m.
func decodeEvent(payload []byte, v any, m *event.Meta, typ string) error {
	if err := json.Unmarshal(payload, v); err != nil {
		return err
	}
	return m.Check(typ)
}
