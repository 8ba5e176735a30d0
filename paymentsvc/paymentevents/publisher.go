// Package paymentevents is paymentsvc on Redis pub/sub: the Publisher that
// reports payments to ordersvc (payment.Events), and the handlers that turn
// the order events paymentsvc consumes into requests of its endpoints. The
// messages are the contracts of package event.
package paymentevents

import (
	"context"

	"github.com/orderflow/orderflow/internal/telemetry"
	"github.com/orderflow/orderflow/paymentsvc/payment"
	"github.com/orderflow/orderflow/transport/event"
	"github.com/orderflow/orderflow/transport/pubsub"
)

// Publisher implements payment.Events on Redis pub/sub: PaymentProcessed on
// payments.processed, PaymentRefunded on payments.refunded.
type Publisher struct {
	pub *pubsub.Publisher
}

// NewPublisher returns a Publisher that publishes with pub.
func NewPublisher(pub *pubsub.Publisher) Publisher {
	return Publisher{pub: pub}
}

// PaymentProcessed implements payment.Events.
func (p Publisher) PaymentProcessed(ctx context.Context, pay payment.Payment) error {
	outcome := event.OutcomeDeclined
	if pay.Paid() {
		outcome = event.OutcomePaid
	}
	_, err := p.pub.Publish(ctx, event.ChannelPaymentProcessed, event.PaymentProcessed{
		Meta:      event.NewMeta(event.TypePaymentProcessed, pay.OrderID, pay.CorrelationID).WithTrace(telemetry.TraceParent(ctx)),
		PaymentID: pay.ID,
		Outcome:   outcome,
		Reason:    pay.Reason,
		Money:     event.Money{Amount: pay.Amount, Currency: pay.Currency},
	})
	return err
}

// PaymentRefunded implements payment.Events.
func (p Publisher) PaymentRefunded(ctx context.Context, pay payment.Payment) error {
	_, err := p.pub.Publish(ctx, event.ChannelPaymentRefunded, event.PaymentRefunded{
		Meta:      event.NewMeta(event.TypePaymentRefunded, pay.OrderID, pay.CorrelationID).WithTrace(telemetry.TraceParent(ctx)),
		PaymentID: pay.ID,
		Money:     event.Money{Amount: pay.Amount, Currency: pay.Currency},
	})
	return err
}
