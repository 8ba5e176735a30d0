package orderstore_test

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
)

// BenchmarkListFiftyPaidOrders lists, from a replica that knows none of
// them, the 50 orders of a user, each created and then paid, on the
// embedded FerretDB: what GET /orders/{userId} costs the store.
func BenchmarkListFiftyPaidOrders(b *testing.B) {
	ctx := context.Background()
	client := testenv.Mongo(b, testenv.FerretDB(b))
	db := mongostore.New(client.Database("orders_" + bson.NewObjectID().Hex()))
	writer := newStore(b, db)
	for i := range 50 {
		o := newOrder("u1", t0.Add(time.Duration(i)*time.Millisecond))
		if err := writer.Create(ctx, o, nil); err != nil {
			b.Fatal(err)
		}
		if err := writer.Change(ctx, paid(o, "req-2")); err != nil {
			b.Fatal(err)
		}
	}
	testenv.Eventually(b, 10*time.Second, "the pages were never written", func() bool {
		var page bson.M
		return db.Collection("user_orders").Find(ctx, "u1/p4", &page) == nil
	})
	counted := &findCounter{Database: db}
	var list []order.Order
	b.ResetTimer()
	for b.Loop() {
		var err error
		if list, _, err = newStore(b, counted).List(ctx, "u1", 0, 50); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(counted.finds.Load())/float64(b.N), "reads/op")
	if len(list) != 50 {
		b.Fatalf("want 50 orders, have %d", len(list))
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
