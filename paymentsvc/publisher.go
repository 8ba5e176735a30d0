package paymentsvc

import (
	"context"

	"github.com/orderflow/orderflow/transport/event"
	"github.com/orderflow/orderflow/transport/pubsub"
)

// EventPublisher implements Events on Redis pub/sub.
type EventPublisher struct {
	pub *pubsub.Publisher
}

// NewEventPublisher returns an EventPublisher.
func NewEventPublisher(pub *pubsub.Publisher) EventPublisher {
	return EventPublisher{pub: pub}
}

// PaymentProcessed implements Events.
func (p EventPublisher) PaymentProcessed(ctx context.Context, pay Payment) (int64, error) {
	outcome := event.OutcomeDeclined
	if pay.Paid() {
		outcome = event.OutcomePaid
	}
	return p.pub.Publish(ctx, event.ChannelPaymentProcessed, event.PaymentProcessed{
		Meta:      event.NewMeta(event.TypePaymentProcessed, pay.OrderID, pay.CorrelationID),
		PaymentID: pay.ID,
		Outcome:   outcome,
		Reason:    pay.Reason,
		Money:     event.Money{Amount: pay.Amount, Currency: pay.Currency},
	})
}

// PaymentRefunded implements Events.
func (p EventPublisher) PaymentRefunded(ctx context.Context, pay Payment) (int64, error) {
	return p.pub.Publish(ctx, event.ChannelPaymentRefunded, event.PaymentRefunded{
		Meta:      event.NewMeta(event.TypePaymentRefunded, pay.OrderID, pay.CorrelationID),
		PaymentID: pay.ID,
		Money:     event.Money{Amount: pay.Amount, Currency: pay.Currency},
	})
}
