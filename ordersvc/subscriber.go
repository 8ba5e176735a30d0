package ordersvc

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/go-kit/kit/endpoint"

	"github.com/orderflow/orderflow/transport/event"
	"github.com/orderflow/orderflow/transport/pubsub"
)

// PaymentEvents is what ordersvc does with paymentsvc's events.
type PaymentEvents interface {
	ApplyPayment(ctx context.Context, p PaymentOutcome) error
	ApplyRefund(ctx context.Context, orderID, correlationID string) error
}

// MakeEventHandlers returns the handlers of the channels ordersvc consumes.
func MakeEventHandlers(s PaymentEvents) map[string]pubsub.Handler {
	return map[string]pubsub.Handler{
		event.ChannelPaymentProcessed: pubsub.NewSubscriber(makeApplyPaymentEndpoint(s), decodePaymentProcessed),
		event.ChannelPaymentRefunded:  pubsub.NewSubscriber(makeApplyRefundEndpoint(s), decodePaymentRefunded),
	}
}

type refundRequest struct {
	OrderID, CorrelationID string
}

func makeApplyPaymentEndpoint(s PaymentEvents) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		return nil, s.ApplyPayment(ctx, request.(PaymentOutcome))
	}
}

func makeApplyRefundEndpoint(s PaymentEvents) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		r := request.(refundRequest)
		return nil, s.ApplyRefund(ctx, r.OrderID, r.CorrelationID)
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
	return PaymentOutcome{
		OrderID:       e.OrderID,
		PaymentID:     e.PaymentID,
		Paid:          e.Outcome == event.OutcomePaid,
		Reason:        e.Reason,
		CorrelationID: e.CorrelationID,
	}, nil
}

func decodePaymentRefunded(_ context.Context, payload []byte) (any, error) {
	var e event.PaymentRefunded
	if err := decodeEvent(payload, &e, &e.Meta, event.TypePaymentRefunded); err != nil {
		return nil, err
	}
	return refundRequest{OrderID: e.OrderID, CorrelationID: e.CorrelationID}, nil
}

// decodeEvent decodes payload into v and checks its envelope m.
func decodeEvent(payload []byte, v any, m *event.Meta, typ string) error {
	if err := json.Unmarshal(payload, v); err != nil {
		return err
	}
	return m.Check(typ)
}
