package devstack_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/docstore/mongostore"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/ordersvc/orderstore/orderstoretest"
)

// BenchmarkListFiftyPaidOrders lists, from a replica that knows none of
// them, the 50 orders of a user, each created and then paid, on the
// embedded FerretDB: what GET /orders/{userId} costs the store.
func BenchmarkListFiftyPaidOrders(b *testing.B) {
	ctx := context.Background()
	db, err := mongostore.New(ctx, mongoClient(b, ferretDB(b).URI), "orders")
	if err != nil {
		b.Fatal(err)
	}
	c := testenv.NewClock(orderstoretest.T0)
	writer := orderstoretest.NewStore(b, db, c)
	pay := func(o order.Order) (order.Order, *order.OutboxEntry, error) {
		return o.ApplyPayment(order.PaymentOutcome{OrderID: o.ID, PaymentID: "p1", Paid: true}, o.CreatedAt.Add(time.Second)), nil, nil
	}
	for i := range 50 {
		o := orderstoretest.NewOrder("u1", orderstoretest.T0.Add(time.Duration(i)*time.Millisecond))
		if err := writer.Create(ctx, o, orderstoretest.Entry(o)); err != nil {
			b.Fatal(err)
		}
		if _, err := writer.Update(ctx, o.ID, pay); err != nil {
			b.Fatal(err)
		}
	}
	if _, _, err := writer.List(ctx, "u1", "", 50); err != nil { // writes the pages
		b.Fatal(err)
	}
	counted := &findCounter{Database: db}
	var list []order.Order
	b.ResetTimer()
	for b.Loop() {
		var err error
		if list, _, err = orderstoretest.NewStore(b, counted, c).List(ctx, "u1", "", 50); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(counted.finds.Load())/float64(b.N), "reads/op")
	if len(list) != 50 {
		b.Fatalf("want 50 orders, have %d", len(list))
	}
	var page bson.M
	if err := db.Collection("user_orders").Find(ctx, "u1/p4", &page); err != nil {
		b.Errorf("the last full page was not written: %v", err)
	}
}

// findCounter counts the documents read from any of its collections.
type findCounter struct {
	docstore.Database
	finds atomic.Int64
}

func (d *findCounter) Collection(name string) docstore.Collection {
	return countedCollection{d.Database.Collection(name), &d.finds}
}

type countedCollection struct {
	docstore.Collection
	finds *atomic.Int64
}

func (c countedCollection) Find(ctx context.Context, id, v any) error {
	c.finds.Add(1)
	return c.Collection.Find(ctx, id, v)
}
