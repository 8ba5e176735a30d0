// Package orderevents is ordersvc on Redis pub/sub: a Publisher that
// announces orders to paymentsvc (order.Events), and the handlers that feed
// paymentsvc's answers to the endpoints of package eventapi.
package orderevents

import (
	"context"

	"github.com/orderflow/orderflow/internal/telemetry"
	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/transport/event"
	"github.com/orderflow/orderflow/transport/pubsub"
)

// Publisher implements order.Events on Redis pub/sub.
type Publisher struct {
	pub *pubsub.Publisher
}

// NewPublisher returns a Publisher.
func NewPublisher(pub *pubsub.Publisher) Publisher {
	return Publisher{pub: pub}
}

// OrderCreated implements order.Events.
func (p Publisher) OrderCreated(ctx context.Context, o order.Order) error {
	_, err := p.pub.Publish(ctx, event.ChannelOrderCreated, event.OrderCreated{
		Meta:      event.NewMeta(event.TypeOrderCreated, o.ID, o.CorrelationID).WithTrace(telemetry.TraceParent(ctx)),
		UserID:    o.UserID,
		ProductID: o.ProductID,
		Money:     event.Money{Amount: int64(o.Amount), Currency: order.Currency},
	})
	return err
}

// OrderCancelled implements order.Events.
func (p Publisher) OrderCancelled(ctx context.Context, o order.Order) error {
	_, err := p.pub.Publish(ctx, event.ChannelOrderCancelled, event.OrderCancelled{
		Meta:   event.NewMeta(event.TypeOrderCancelled, o.ID, o.CorrelationID).WithTrace(telemetry.TraceParent(ctx)),
		UserID: o.UserID,
		Money:  event.Money{Amount: int64(o.Amount), Currency: order.Currency},
	})
	return err
}
