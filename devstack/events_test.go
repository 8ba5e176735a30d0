package devstack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/transport/event"
)

// publish sends an event as a producer would.
func (s *system) publish(channel string, v any) {
	s.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := testenv.RedisClient(s.t, s.redis).Publish(context.Background(), channel, b).Err(); err != nil {
		s.t.Fatal(err)
	}
}

// messages returns the count of a service's messages of channel with
// result, from its /metrics.
func (s *system) messages(p *inProcess, channel, result string) float64 {
	return metricValue(s.t.(*testing.T), "http://"+p.addr, p.name+`_messages_total{channel="`+channel+`",result="`+result+`"}`)
}

// paymentRecords returns how many payment records the order has.
func (s *system) paymentRecords(orderID string) int64 { return s.records("payments", orderID) }

// refundRecords returns how many refund records the order has.
func (s *system) refundRecords(orderID string) int64 { return s.records("refunds", orderID) }

func (s *system) records(collection, orderID string) int64 {
	s.t.Helper()
	n, err := stored(s.t, s.mongoURI, "payments", collection).
		CountDocuments(context.Background(), bson.D{{Key: "_id", Value: orderID}})
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

func TestADuplicatedOrderCreatedChargesOnce(t *testing.T) {
	s := startSystem(t, true)
	id := s.createOrder("u1", "1")
	s.waitStatus(id, "Success", "Paid", settle)

	dup := event.OrderCreated{
		Meta:   event.NewMeta(event.TypeOrderCreated, id, "dup"),
		UserID: "u1", ProductID: "1", Money: event.Money{Amount: 9900, Currency: "MYR"},
	}
	handled := s.messages(s.payments, event.ChannelOrderCreated, "handled")
	s.publish(event.ChannelOrderCreated, dup) // the same event twice: one replica handles it
	s.publish(event.ChannelOrderCreated, dup)
	dup.Meta = event.NewMeta(event.TypeOrderCreated, id, "dup") // a redelivery: a new event id
	s.publish(event.ChannelOrderCreated, dup)

	testenv.Eventually(t, settle, "paymentsvc never handled the duplicates", func() bool {
		return s.messages(s.payments, event.ChannelOrderCreated, "handled") >= handled+2
	})
	if n := s.paymentRecords(id); n != 1 {
		t.Errorf("want 1 payment record, have %d", n)
	}
	if o, p := s.status(id); o != "Success" || p != "Paid" {
		t.Errorf("want Success/Paid, have %s/%s", o, p)
	}
}

func TestStaleAndDuplicatedPaymentEventsChangeNothing(t *testing.T) {
	s := startSystem(t, true)
	id := s.createOrder("u1", "1")
	s.waitStatus(id, "Success", "Paid", settle)

	stale := event.PaymentProcessed{
		Meta:      event.NewMeta(event.TypePaymentProcessed, id, "stale"),
		PaymentID: "000000000000000000000000", Outcome: event.OutcomeDeclined, Reason: "late",
	}
	processed, refunded := s.messages(s.orders, event.ChannelPaymentProcessed, "handled"), s.messages(s.orders, event.ChannelPaymentRefunded, "handled")
	s.publish(event.ChannelPaymentProcessed, stale)
	stale.Meta, stale.Outcome = event.NewMeta(event.TypePaymentProcessed, id, "stale"), event.OutcomePaid
	s.publish(event.ChannelPaymentProcessed, stale)
	refund := event.PaymentRefunded{Meta: event.NewMeta(event.TypePaymentRefunded, id, "stale")}
	s.publish(event.ChannelPaymentRefunded, refund)

	testenv.Eventually(t, settle, "ordersvc never handled the stale events", func() bool {
		return s.messages(s.orders, event.ChannelPaymentProcessed, "handled") >= processed+2 &&
			s.messages(s.orders, event.ChannelPaymentRefunded, "handled") >= refunded+1
	})
	n, err := stored(t, s.mongoURI, "orders", "order_changes").
		CountDocuments(context.Background(), bson.D{{Key: "_id", Value: id + "/2"}})
	if err != nil || n != 0 {
		t.Errorf("want no second change of the order, have %d (%v)", n, err)
	}
	r := s.do("GET", "/orders/one/"+id, "")
	if o := r.body["order"].(map[string]any); o["orderStatus"] != "Success" || o["paymentStatus"] != "Paid" {
		t.Errorf("want Success/Paid, have %s", r.raw)
	}
}

func TestOrdersSettleAfterRedisRestarts(t *testing.T) {
	s := startSystem(t, true)
	before := s.createOrder("u1", "1")
	s.waitStatus(before, "Success", "Paid", settle)

	s.redis.Kill()
	testenv.Eventually(t, settle, "ordersvc never saw Redis go", func() bool { return s.dependency(s.orders, "redis") == "failing" })
	if !s.ready(s.orders) || !s.ready(s.gateway) {
		t.Error("a Redis outage took ordersvc or the gateway out of its Service: orders can still be taken")
	}
	// MongoDB is the truth: orders are taken while Redis is down.
	var during []string
	for range 3 {
		during = append(during, s.createOrder("u1", "1"))
	}
	during = append(during, s.createOrder("u1", "2"))
	for _, id := range during {
		if o, p := s.status(id); o != "Processing" || p != "Pending" {
			t.Fatalf("while Redis is down: want Processing/Pending, have %s/%s", o, p)
		}
	}
	if err := s.redis.Restart(); err != nil {
		t.Fatal(err)
	}

	testenv.Eventually(t, settle, "ordersvc never resubscribed", func() bool { return s.dependency(s.orders, "subscription") == "ok" })
	testenv.Eventually(t, settle, "paymentsvc never resubscribed", func() bool { return s.ready(s.payments) })
	for _, id := range during[:3] {
		s.waitStatus(id, "Success", "Paid", settle)
	}
	s.waitStatus(during[3], "Failed", "Declined", settle)
	after := s.createOrder("u1", "1")
	s.waitStatus(after, "Success", "Paid", settle)
	for _, id := range append(during, before, after) {
		if n := s.paymentRecords(id); n != 1 {
			t.Errorf("order %s: want 1 payment, have %d", id, n)
		}
	}
}

func TestOrdersSettleWhenPaymentsvcRestartsMidFlow(t *testing.T) {
	s := startSystem(t, true)
	ids := []string{s.createOrder("u1", "1")}
	s.stop(s.payments)
	for range 3 {
		ids = append(ids, s.createOrder("u1", "1"))
	}
	s.start(s.payments)
	ids = append(ids, s.createOrder("u1", "1"))
	for _, id := range ids {
		s.waitStatus(id, "Success", "Paid", settle)
		if n := s.paymentRecords(id); n != 1 {
			t.Errorf("order %s: want 1 payment, have %d", id, n)
		}
	}
	if r := s.do("GET", "/orders/u1", ""); r.status != http.StatusOK || len(r.body["orders"].([]any)) != len(ids) {
		t.Errorf("want %d orders, have %s", len(ids), r.raw)
	}
}
