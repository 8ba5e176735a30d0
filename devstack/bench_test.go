package devstack_test

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkCreateOrder measures POST /orders through the gateway and
// ordersvc on the embedded FerretDB: the store's insert and the publish.
// FerretDB's SQLite backend scans the collection on lookups, so the cost
// per order grows with the number of orders stored.
func BenchmarkCreateOrder(b *testing.B) {
	s := startSystem(b, true)
	for i := 0; b.Loop(); i++ {
		s.createOrder(fmt.Sprintf("bench-%d", i%100), "1")
	}
}

// BenchmarkOrderToPaid measures the time from POST /orders to the order
// reading Success/Paid: the whole flow through Redis, paymentsvc and back.
func BenchmarkOrderToPaid(b *testing.B) {
	s := startSystem(b, true)
	var worst time.Duration
	for b.Loop() {
		begin := time.Now()
		id := s.createOrder("bench", "1")
		for o, p := s.status(id); o != "Success" || p != "Paid"; o, p = s.status(id) {
			if time.Since(begin) > settle {
				b.Fatalf("order %s is still %s/%s", id, o, p)
			}
			time.Sleep(time.Millisecond) // poll gently: the load is the flow, not the polling
		}
		worst = max(worst, time.Since(begin))
	}
	b.ReportMetric(float64(worst.Milliseconds()), "worst-ms")
}
