package flowevents_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/orderflow/orderflow/flowsvc/flow"
	"github.com/orderflow/orderflow/flowsvc/flowevents"
	"github.com/orderflow/orderflow/transport/event"
	"github.com/orderflow/orderflow/transport/pubsub"
)

const orderID = "6b06df22a1b2c3d4e5f60718"

var at = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func meta(typ string) event.Meta {
	return event.Meta{Type: typ, EventID: "e1", OrderID: orderID, CorrelationID: "c1", OccurredAt: at}
}

func payload(t *testing.T, e any) []byte {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEveryChannelOfAnOrdersJourneyIsWatched(t *testing.T) {
	var have []string
	for ch := range flowevents.MakeHandlers(flow.NewBoard(flow.Options{})) {
		have = append(have, ch)
	}
	slices.Sort(have)
	want := slices.Clone(flowevents.Channels)
	slices.Sort(want)
	if !slices.Equal(have, want) || len(want) != 4 {
		t.Errorf("want handlers of the four channels %v, have %v", want, have)
	}
}

func TestEachEventBecomesItsStep(t *testing.T) {
	money := event.Money{Amount: 1250, Currency: "MYR"}
	for _, c := range []struct {
		channel string
		event   any
		want    flow.Step
	}{
		{event.ChannelOrderCreated, event.OrderCreated{Meta: meta(event.TypeOrderCreated), UserID: "demo", ProductID: "1", Money: money},
			flow.Step{Name: flow.Created, Detail: "user demo, product 1, RM 12.50"}},
		{event.ChannelPaymentProcessed, event.PaymentProcessed{Meta: meta(event.TypePaymentProcessed), PaymentID: "p1", Outcome: event.OutcomePaid, Money: money},
			flow.Step{Name: flow.Paid, Detail: "payment p1"}},
		{event.ChannelPaymentProcessed, event.PaymentProcessed{Meta: meta(event.TypePaymentProcessed), PaymentID: "p2", Outcome: event.OutcomeDeclined, Reason: "product 2 is not sold", Money: money},
			flow.Step{Name: flow.Declined, Detail: "product 2 is not sold"}},
		{event.ChannelOrderCancelled, event.OrderCancelled{Meta: meta(event.TypeOrderCancelled), UserID: "demo", Money: money},
			flow.Step{Name: flow.Cancelled, Detail: "refund of RM 12.50 asked"}},
		{event.ChannelPaymentRefunded, event.PaymentRefunded{Meta: meta(event.TypePaymentRefunded), PaymentID: "p1", Money: money},
			flow.Step{Name: flow.Refunded, Detail: "payment p1 refunded"}},
	} {
		b := flow.NewBoard(flow.Options{})
		if err := flowevents.MakeHandlers(b)[c.channel].ServeMessage(context.Background(), payload(t, c.event)); err != nil {
			t.Errorf("%s: %v", c.channel, err)
			continue
		}
		history, w := b.Watch()
		w.Close()
		want := c.want
		want.OrderID, want.At, want.CorrelationID, want.Times = orderID, at, "c1", 1
		if len(history) != 1 || history[0] != want {
			t.Errorf("%s: want %+v, have %+v", c.channel, want, history)
		}
	}
}

func TestAMessageThatIsNoStepIsUndecodable(t *testing.T) {
	badID := meta(event.TypeOrderCreated)
	badID.OrderID = "not-an-order"
	for _, c := range []struct {
		name, channel string
		payload       []byte
	}{
		{"not JSON", event.ChannelOrderCreated, []byte("{")},
		{"another contract", event.ChannelOrderCreated, payload(t, event.OrderCancelled{Meta: meta(event.TypeOrderCancelled)})},
		{"an order id that is none", event.ChannelOrderCreated, payload(t, event.OrderCreated{Meta: badID})},
		{"an unknown outcome", event.ChannelPaymentProcessed, payload(t, event.PaymentProcessed{Meta: meta(event.TypePaymentProcessed), Outcome: "Maybe"})},
	} {
		b := flow.NewBoard(flow.Options{})
		err := flowevents.MakeHandlers(b)[c.channel].ServeMessage(context.Background(), c.payload)
		if !errors.Is(err, pubsub.ErrUndecodable) {
			t.Errorf("%s: want ErrUndecodable, have %v", c.name, err)
		}
		if st := b.Stats(); st.Orders != 0 {
			t.Errorf("%s: recorded a step", c.name)
		}
	}
}
