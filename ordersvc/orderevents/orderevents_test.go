package orderevents_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/ordersvc/eventapi"
	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/ordersvc/orderevents"
	"github.com/orderflow/orderflow/transport/pubsub"
	"github.com/orderflow/orderflow/transport/pubsub/pubsubtest"
)

const orderID = "6b06df22a1b2c3d4e5f60718"

var keyboard = order.Order{
	ID: orderID, UserID: "u1", ProductID: "1", ProductName: "Keyboard", Amount: 9900,
	Status: order.Processing, PaymentStatus: order.Pending, CorrelationID: "c1",
}

func TestAnOrderCreatedIsPublishedOnItsChannelInItsContract(t *testing.T) {
	have := pubsubtest.Received(t, "orders.created", func(ctx context.Context, pub *pubsub.Publisher) error {
		return orderevents.NewPublisher(pub).OrderCreated(ctx, keyboard)
	})
	pubsubtest.CheckEnvelope(t, have, "orders.created.v1", orderID, "c1")
	if want := map[string]any{"userId": "u1", "productId": "1", "amount": 9900.0, "currency": "MYR"}; !pubsubtest.EqualJSON(have, want) {
		t.Errorf("want %v, have %v", want, have)
	}
}

func TestAnOrderCancelledIsPublishedOnItsChannelInItsContract(t *testing.T) {
	cancelled := keyboard
	cancelled.Status, cancelled.PaymentStatus, cancelled.CorrelationID = order.Cancelled, order.Refunding, "c2"
	have := pubsubtest.Received(t, "orders.cancelled", func(ctx context.Context, pub *pubsub.Publisher) error {
		return orderevents.NewPublisher(pub).OrderCancelled(ctx, cancelled)
	})
	pubsubtest.CheckEnvelope(t, have, "orders.cancelled.v1", orderID, "c2")
	if want := map[string]any{"userId": "u1", "amount": 9900.0, "currency": "MYR"}; !pubsubtest.EqualJSON(have, want) {
		t.Errorf("want %v, have %v", want, have)
	}
}

// capture returns endpoints that keep the requests they are called with.
func capture() (eventapi.Endpoints, *[]any) {
	var requests []any
	keep := func(_ context.Context, r any) (any, error) {
		requests = append(requests, r)
		return eventapi.OrderResponse{}, nil
	}
	return eventapi.Endpoints{ApplyPaymentEndpoint: keep, ApplyRefundEndpoint: keep}, &requests
}

func TestTheHandlersAreThoseOfThePaymentChannels(t *testing.T) {
	e, _ := capture()
	if have, want := pubsubtest.Channels(orderevents.MakeHandlers(e)), []string{"payments.processed", "payments.refunded"}; !slices.Equal(have, want) {
		t.Errorf("want handlers of %v, have %v", want, have)
	}
}

func TestPaymentEventsBecomeRequestsOfTheEventEndpoints(t *testing.T) {
	for _, tc := range []struct {
		channel, payload string
		want             any
	}{
		{"payments.processed", `{"type":"payments.processed.v1","eventId":"e1","orderId":"` + orderID + `","correlationId":"c1","paymentId":"p1","outcome":"Paid","amount":9900,"currency":"MYR"}`,
			eventapi.ApplyPaymentRequest{Outcome: order.PaymentOutcome{OrderID: orderID, PaymentID: "p1", Paid: true, CorrelationID: "c1"}}},
		{"payments.processed", `{"type":"payments.processed.v1","eventId":"e2","orderId":"` + orderID + `","correlationId":"c1","paymentId":"p1","outcome":"Declined","reason":"no funds"}`,
			eventapi.ApplyPaymentRequest{Outcome: order.PaymentOutcome{OrderID: orderID, PaymentID: "p1", Reason: "no funds", CorrelationID: "c1"}}},
		{"payments.refunded", `{"type":"payments.refunded.v1","eventId":"e3","orderId":"` + orderID + `","correlationId":"c2","paymentId":"p1"}`,
			eventapi.ApplyRefundRequest{OrderID: orderID}},
	} {
		e, requests := capture()
		if err := orderevents.MakeHandlers(e)[tc.channel].ServeMessage(context.Background(), []byte(tc.payload)); err != nil {
			t.Fatal(err)
		}
		if len(*requests) != 1 || (*requests)[0] != tc.want {
			t.Errorf("%s: want %+v, have %+v", tc.channel, tc.want, *requests)
		}
	}
}

func TestAPaymentEventThatCannotBeHandledIsUndecodable(t *testing.T) {
	processed := func(replace ...string) string {
		return strings.NewReplacer(replace...).Replace(`{"type":"payments.processed.v1","eventId":"e1","orderId":"` + orderID + `","paymentId":"p1","outcome":"Paid"}`)
	}
	for _, c := range []struct{ name, channel, payload string }{
		{"not JSON", "payments.processed", `{"type":`},
		{"another type", "payments.processed", processed("payments.processed.v1", "payments.refunded.v1")},
		{"an order id that is not one", "payments.processed", processed(orderID, "o1")},
		{"an outcome of no kind", "payments.processed", processed(`"Paid"`, `"Maybe"`)},
		{"a payment on the refunds channel", "payments.refunded", processed()},
	} {
		e, requests := capture()
		err := orderevents.MakeHandlers(e)[c.channel].ServeMessage(context.Background(), []byte(c.payload))
		if !errors.Is(err, pubsub.ErrUndecodable) {
			t.Errorf("%s: want ErrUndecodable, have %v", c.name, err)
		}
		if len(*requests) != 0 {
			t.Errorf("%s: want no endpoint called, have %+v", c.name, *requests)
		}
	}
}
