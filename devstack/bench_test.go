package devstack_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/orderflow/orderflow/internal/testenv"
)

// The embedded FerretDB answers only lookups by _id without reading every
// document of a collection; every conditional update scans the orders. So
// the cost of an order grows with the number of orders stored: these
// benchmarks measure it at several fill levels (make bench).

// fill stores n settled orders, as a store that has been used for a while.
func (s *system) fill(b *testing.B, n int) {
	coll := testenv.Mongo(b, s.mongoURI).Database("orders").Collection("orders")
	docs := make([]any, n)
	now := time.Now().UTC()
	for i := range docs {
		id := bson.NewObjectID()
		docs[i] = bson.D{
			{Key: "_id", Value: id}, {Key: "userId", Value: fmt.Sprintf("filler-%d", i%50)},
			{Key: "productId", Value: "1"}, {Key: "productName", Value: "Keyboard"},
			{Key: "amountSen", Value: int64(9900)}, {Key: "currency", Value: "MYR"},
			{Key: "orderStatus", Value: "Success"}, {Key: "paymentStatus", Value: "Paid"},
			{Key: "createdAt", Value: now}, {Key: "updatedAt", Value: now},
			{Key: "requestHash", Value: "h"},
		}
	}
	if n > 0 {
		if _, err := coll.InsertMany(context.Background(), docs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOrderToPaid measures the time from POST /orders to the order
// reading Success/Paid, the whole flow through Redis, paymentsvc and back,
// with a store already holding 0, 500 and 2000 orders.
func BenchmarkOrderToPaid(b *testing.B) {
	for _, stored := range []int{0, 500, 2000} {
		b.Run(fmt.Sprintf("stored=%d", stored), func(b *testing.B) {
			s := startSystem(b, true)
			s.fill(b, stored)
			var worst time.Duration
			for b.Loop() {
				begin := time.Now()
				id := s.createOrder("bench", "1")
				for o, p := s.status(id); o != "Success" || p != "Paid"; o, p = s.status(id) {
					if time.Since(begin) > time.Minute {
						b.Fatalf("order %s is still %s/%s", id, o, p)
					}
					time.Sleep(time.Millisecond) // poll gently: the load is the flow, not the polling
				}
				worst = max(worst, time.Since(begin))
			}
			b.ReportMetric(float64(worst.Milliseconds()), "worst-ms")
		})
	}
}

// BenchmarkCreateOrder measures POST /orders alone: the insert and the publish.
func BenchmarkCreateOrder(b *testing.B) {
	s := startSystem(b, true)
	for i := 0; b.Loop(); i++ {
		s.createOrder(fmt.Sprintf("bench-%d", i%100), "1")
	}
}
