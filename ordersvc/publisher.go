package ordersvc

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

// OrderCreated implements Events.
func (p EventPublisher) OrderCreated(ctx context.Context, o Order) (int64, error) {
	return p.pub.Publish(ctx, event.ChannelOrderCreated, event.OrderCreated{
		Meta:      event.NewMeta(event.TypeOrderCreated, o.ID, o.CorrelationID),
		UserID:    o.UserID,
		ProductID: o.ProductID,
		Money:     event.Money{Amount: int64(o.Amount), Currency: Currency},
	})
}

// OrderCancelled implements Events.
func (p EventPublisher) OrderCancelled(ctx context.Context, o Order) (int64, error) {
	return p.pub.Publish(ctx, event.ChannelOrderCancelled, event.OrderCancelled{
		Meta:   event.NewMeta(event.TypeOrderCancelled, o.ID, o.CorrelationID),
		UserID: o.UserID,
		Money:  event.Money{Amount: int64(o.Amount), Currency: Currency},
	})
}
