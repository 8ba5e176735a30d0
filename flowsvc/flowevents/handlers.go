// Package flowevents is flowsvc's side of Redis: the handlers that turn
// each event of the four channels into a step on the flow board, and the
// count of each channel's receivers.
//
// flowsvc only watches, so a message goes straight from its decoder to
// the board: there is no business call that could fail, and so no
// endpoint layer between the two.
package flowevents

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/orderflow/orderflow/flowsvc/flow"
	"github.com/orderflow/orderflow/transport/event"
	"github.com/orderflow/orderflow/transport/pubsub"
)

// Channels are the channels flowsvc watches.
var Channels = []string{
	event.ChannelOrderCreated,
	event.ChannelPaymentProcessed,
	event.ChannelOrderCancelled,
	event.ChannelPaymentRefunded,
}

// MakeHandlers returns a handler of each of Channels that records its
// events on b. A message that does not decode is pubsub.ErrUndecodable.
func MakeHandlers(b *flow.Board) map[string]pubsub.Handler {
	return map[string]pubsub.Handler{
		event.ChannelOrderCreated:     recorder(b, decodeOrderCreated),
		event.ChannelPaymentProcessed: recorder(b, decodePaymentProcessed),
		event.ChannelOrderCancelled:   recorder(b, decodeOrderCancelled),
		event.ChannelPaymentRefunded:  recorder(b, decodePaymentRefunded),
	}
}

// handlerFunc is a pubsub.Handler.
type handlerFunc func(ctx context.Context, payload []byte) error

func (f handlerFunc) ServeMessage(ctx context.Context, payload []byte) error { return f(ctx, payload) }

// recorder returns a handler that decodes a message into a step and
// records it.
func recorder(b *flow.Board, decode func(payload []byte) (flow.Step, error)) pubsub.Handler {
	return handlerFunc(func(_ context.Context, payload []byte) error {
		s, err := decode(payload)
		if err != nil {
			return fmt.Errorf("%w: %v", pubsub.ErrUndecodable, err)
		}
		b.Record(s)
		return nil
	})
}

// step is the step named name of the event whose envelope is m.
func step(m event.Meta, name, detail string) flow.Step {
	return flow.Step{OrderID: m.OrderID, Name: name, At: m.OccurredAt, CorrelationID: m.CorrelationID, Detail: detail}
}

// unmarshal decodes payload into e and checks that its envelope m is of
// the contract typ.
func unmarshal(payload []byte, e any, m *event.Meta, typ string) error {
	if err := json.Unmarshal(payload, e); err != nil {
		return err
	}
	return m.Check(typ)
}

func decodeOrderCreated(payload []byte) (flow.Step, error) {
	var e event.OrderCreated
	if err := unmarshal(payload, &e, &e.Meta, event.TypeOrderCreated); err != nil {
		return flow.Step{}, err
	}
	detail := fmt.Sprintf("user %s, product %s, %s", e.UserID, e.ProductID, formatMoney(e.Money))
	return step(e.Meta, flow.Created, detail), nil
}

func decodePaymentProcessed(payload []byte) (flow.Step, error) {
	var e event.PaymentProcessed
	if err := unmarshal(payload, &e, &e.Meta, event.TypePaymentProcessed); err != nil {
		return flow.Step{}, err
	}
	switch e.Outcome {
	case event.OutcomePaid:
		return step(e.Meta, flow.Paid, "payment "+e.PaymentID), nil
	case event.OutcomeDeclined:
		return step(e.Meta, flow.Declined, e.Reason), nil
	}
	return flow.Step{}, fmt.Errorf("outcome %q is neither %s nor %s", e.Outcome, event.OutcomePaid, event.OutcomeDeclined)
}

func decodeOrderCancelled(payload []byte) (flow.Step, error) {
	var e event.OrderCancelled
	if err := unmarshal(payload, &e, &e.Meta, event.TypeOrderCancelled); err != nil {
		return flow.Step{}, err
	}
	if e.Currency == "" {
		return step(e.Meta, flow.Cancelled, "refund asked"), nil
	}
	return step(e.Meta, flow.Cancelled, "refund of "+formatMoney(e.Money)+" asked"), nil
}

func decodePaymentRefunded(payload []byte) (flow.Step, error) {
	var e event.PaymentRefunded
	if err := unmarshal(payload, &e, &e.Meta, event.TypePaymentRefunded); err != nil {
		return flow.Step{}, err
	}
	return step(e.Meta, flow.Refunded, "payment "+e.PaymentID+" refunded"), nil
}

// formatMoney writes an amount as the API does: "RM 12.50" for ringgit,
// "12.50 XXX" for another currency.
func formatMoney(m event.Money) string {
	sign, amount := "", m.Amount
	if amount < 0 {
		sign, amount = "-", -amount
	}
	n := fmt.Sprintf("%s%d.%02d", sign, amount/100, amount%100)
	if m.Currency == "MYR" {
		return "RM " + n
	}
	return n + " " + m.Currency
}
