package paymentevents_test

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/orderflow/orderflow/paymentsvc/payment"
	"github.com/orderflow/orderflow/paymentsvc/paymentevents"
	"github.com/orderflow/orderflow/transport/pubsub"
)

// received publishes with publish on an in-process Redis and returns the
// JSON received on channel.
func received(t *testing.T, channel string, publish func(context.Context, paymentevents.Publisher) error) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client := redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()})
	defer client.Close()
	sub := client.Subscribe(ctx, channel)
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription is in place
		t.Fatal(err)
	}
	if err := publish(ctx, paymentevents.NewPublisher(pubsub.NewPublisher(client))); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.ReceiveMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var have map[string]any
	if err := json.Unmarshal([]byte(msg.Payload), &have); err != nil {
		t.Fatal(err)
	}
	return have
}

// checkEnvelope checks the fields of the envelope every event carries, and
// removes them from have.
func checkEnvelope(t *testing.T, have map[string]any, typ, orderID, correlationID string) {
	t.Helper()
	if have["type"] != typ || have["orderId"] != orderID || have["correlationId"] != correlationID {
		t.Errorf("want a %s about order %s with correlation id %s, have %v", typ, orderID, correlationID, have)
	}
	if id, _ := have["eventId"].(string); !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Errorf("want a 128-bit hex eventId, have %v", have["eventId"])
	}
	if at, _ := have["occurredAt"].(string); at == "" {
		t.Errorf("want occurredAt, have %v", have["occurredAt"])
	} else if _, err := time.Parse(time.RFC3339Nano, at); err != nil {
		t.Errorf("occurredAt: %v", err)
	}
	for _, k := range []string{"type", "eventId", "orderId", "correlationId", "occurredAt"} {
		delete(have, k)
	}
}

func TestAPaymentProcessedIsPublishedOnItsChannelInItsContract(t *testing.T) {
	p := payment.Payment{
		ID: "6b06df22a1b2c3d4e5f60799", OrderID: "6b06df22a1b2c3d4e5f60718", UserID: "u1", ProductID: "2",
		Amount: 9900, Currency: "MYR", Status: payment.Declined, Reason: "cannot be paid for", CorrelationID: "c1",
	}
	for _, c := range []struct {
		status payment.Status
		reason string
		want   map[string]any
	}{
		{payment.Declined, p.Reason, map[string]any{"paymentId": p.ID, "outcome": "Declined", "reason": p.Reason, "amount": 9900.0, "currency": "MYR"}},
		{payment.Paid, "", map[string]any{"paymentId": p.ID, "outcome": "Paid", "amount": 9900.0, "currency": "MYR"}},
		{payment.Refunded, "", map[string]any{"paymentId": p.ID, "outcome": "Paid", "amount": 9900.0, "currency": "MYR"}},
	} {
		p.Status, p.Reason = c.status, c.reason
		have := received(t, "payments.processed", func(ctx context.Context, pub paymentevents.Publisher) error {
			return pub.PaymentProcessed(ctx, p)
		})
		checkEnvelope(t, have, "payments.processed.v1", p.OrderID, p.CorrelationID)
		if !equalJSON(have, c.want) {
			t.Errorf("%s: want %v, have %v", c.status, c.want, have)
		}
	}
}

func TestAPaymentRefundedIsPublishedOnItsChannelInItsContract(t *testing.T) {
	p := payment.Payment{
		ID: "6b06df22a1b2c3d4e5f60799", OrderID: "6b06df22a1b2c3d4e5f60718", UserID: "u1", ProductID: "1",
		Amount: 1250, Currency: "MYR", Status: payment.Refunded, CorrelationID: "c2",
		RefundedAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
	}
	have := received(t, "payments.refunded", func(ctx context.Context, pub paymentevents.Publisher) error {
		return pub.PaymentRefunded(ctx, p)
	})
	checkEnvelope(t, have, "payments.refunded.v1", p.OrderID, p.CorrelationID)
	if want := map[string]any{"paymentId": p.ID, "amount": 1250.0, "currency": "MYR"}; !equalJSON(have, want) {
		t.Errorf("want %v, have %v", want, have)
	}
}

func equalJSON(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
