package paymentevents_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/paymentsvc/payment"
	"github.com/orderflow/orderflow/paymentsvc/paymentapi"
	"github.com/orderflow/orderflow/paymentsvc/paymentevents"
	"github.com/orderflow/orderflow/transport/pubsub"
	"github.com/orderflow/orderflow/transport/pubsub/pubsubtest"
)

const orderID = "6b06df22a1b2c3d4e5f60718"

// capture returns endpoints that keep the requests they are called with and
// answer with a response failed with err.
func capture(err error) (paymentapi.Endpoints, *[]any) {
	var requests []any
	return paymentapi.Endpoints{
		ChargeEndpoint: func(_ context.Context, r any) (any, error) {
			requests = append(requests, r)
			return paymentapi.ChargeResponse{Err: err}, nil
		},
		RefundEndpoint: func(_ context.Context, r any) (any, error) {
			requests = append(requests, r)
			return paymentapi.RefundResponse{Err: err}, nil
		},
	}, &requests
}

func TestTheHandlersAreThoseOfTheChannels(t *testing.T) {
	e, _ := capture(nil)
	if have, want := pubsubtest.Channels(paymentevents.MakeHandlers(e)), []string{"orders.cancelled", "orders.created"}; !slices.Equal(have, want) {
		t.Errorf("want handlers of %v, have %v", want, have)
	}
}

func TestAnOrderCreatedBecomesAChargeRequest(t *testing.T) {
	e, requests := capture(nil)
	payload := `{"type":"orders.created.v1","eventId":"e1","orderId":"` + orderID + `","correlationId":"c1",` +
		`"occurredAt":"2026-03-01T10:00:00Z","userId":"u1","productId":"1","amount":9900,"currency":"MYR"}`
	if err := paymentevents.MakeHandlers(e)["orders.created"].ServeMessage(context.Background(), []byte(payload)); err != nil {
		t.Fatal(err)
	}
	want := paymentapi.ChargeRequest{Charge: payment.ChargeRequest{
		OrderID: orderID, UserID: "u1", ProductID: "1", Amount: 9900, Currency: "MYR", CorrelationID: "c1",
	}}
	if len(*requests) != 1 || (*requests)[0] != want {
		t.Errorf("want %+v, have %+v", want, *requests)
	}
}

func TestAnOrderCancelledBecomesARefundRequest(t *testing.T) {
	e, requests := capture(nil)
	payload := `{"type":"orders.cancelled.v1","eventId":"e2","orderId":"` + orderID + `","correlationId":"c2",` +
		`"occurredAt":"2026-03-01T10:00:00Z","userId":"u1","amount":9900,"currency":"MYR"}`
	if err := paymentevents.MakeHandlers(e)["orders.cancelled"].ServeMessage(context.Background(), []byte(payload)); err != nil {
		t.Fatal(err)
	}
	want := paymentapi.RefundRequest{Refund: payment.RefundRequest{OrderID: orderID, CorrelationID: "c2"}}
	if len(*requests) != 1 || (*requests)[0] != want {
		t.Errorf("want %+v, have %+v", want, *requests)
	}
}

func TestAMessageThatCannotBeHandledIsUndecodable(t *testing.T) {
	created := func(replace ...string) string {
		return strings.NewReplacer(replace...).Replace(`{"type":"orders.created.v1","eventId":"e1","orderId":"` + orderID +
			`","correlationId":"c1","userId":"u1","productId":"1","amount":9900,"currency":"MYR"}`)
	}
	cancelled := `{"type":"orders.cancelled.v1","eventId":"e2","orderId":"` + orderID + `","correlationId":"c2"}`
	for _, c := range []struct {
		name, channel, payload string
	}{
		{"not JSON", "orders.created", `{"type":`},
		{"another type", "orders.created", created("orders.created.v1", "orders.cancelled.v1")},
		{"another version", "orders.created", created("orders.created.v1", "orders.created.v2")},
		{"an order id that is not one", "orders.created", created(orderID, "o1")},
		{"a zero amount", "orders.created", created(`"amount":9900`, `"amount":0`)},
		{"a negative amount", "orders.created", created(`"amount":9900`, `"amount":-100`)},
		{"no currency", "orders.created", created(`"currency":"MYR"`, `"currency":""`)},
		{"an amount that is not a number", "orders.created", created(`"amount":9900`, `"amount":"RM 99"`)},
		{"an order created on the cancelled channel", "orders.cancelled", created()},
		{"an order cancelled on the created channel", "orders.created", cancelled},
	} {
		e, requests := capture(nil)
		err := paymentevents.MakeHandlers(e)[c.channel].ServeMessage(context.Background(), []byte(c.payload))
		if !errors.Is(err, pubsub.ErrUndecodable) {
			t.Errorf("%s: want ErrUndecodable, have %v", c.name, err)
		}
		if len(*requests) != 0 {
			t.Errorf("%s: want no endpoint called, have %+v", c.name, *requests)
		}
	}
}

func TestAFailedResponseFailsTheMessageForRedelivery(t *testing.T) {
	e, _ := capture(payment.ErrBusy)
	payload := `{"type":"orders.cancelled.v1","eventId":"e2","orderId":"` + orderID + `","correlationId":"c2"}`
	err := paymentevents.MakeHandlers(e)["orders.cancelled"].ServeMessage(context.Background(), []byte(payload))
	if !errors.Is(err, payment.ErrBusy) || errors.Is(err, pubsub.ErrUndecodable) {
		t.Errorf("want ErrBusy, not ErrUndecodable, have %v", err)
	}
}
