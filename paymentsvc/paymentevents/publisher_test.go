package paymentevents_test

import (
	"context"
	"testing"
	"time"

	"github.com/orderflow/orderflow/paymentsvc/payment"
	"github.com/orderflow/orderflow/paymentsvc/paymentevents"
	"github.com/orderflow/orderflow/transport/pubsub"
	"github.com/orderflow/orderflow/transport/pubsub/pubsubtest"
)

// received publishes with publish and returns the JSON received on
// channel.
func received(t *testing.T, channel string, publish func(context.Context, paymentevents.Publisher) error) map[string]any {
	t.Helper()
	return pubsubtest.Received(t, channel, func(ctx context.Context, pub *pubsub.Publisher) error {
		return publish(ctx, paymentevents.NewPublisher(pub))
	})
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
		pubsubtest.CheckEnvelope(t, have, "payments.processed.v1", p.OrderID, p.CorrelationID)
		if !pubsubtest.EqualJSON(have, c.want) {
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
	pubsubtest.CheckEnvelope(t, have, "payments.refunded.v1", p.OrderID, p.CorrelationID)
	if want := map[string]any{"paymentId": p.ID, "amount": 1250.0, "currency": "MYR"}; !pubsubtest.EqualJSON(have, want) {
		t.Errorf("want %v, have %v", want, have)
	}
}
