package devstack_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// BenchmarkInsertCommand inserts orders into the embedded FerretDB, n of
// them in each command, as the services' group commit sends them: what a
// command and a document cost the store (the client's part is small and
// the same in each). An op is one command.
func BenchmarkInsertCommand(b *testing.B) {
	db := mongoClient(b, ferretDB(b).URI).Database("orders")
	ctx := context.Background()
	for _, n := range []int{1, 3, 10} {
		b.Run(fmt.Sprintf("docs=%d", n), func(b *testing.B) {
			coll := db.Collection("orders_" + strconv.Itoa(n))
			docs := make([]any, n)
			for b.Loop() {
				for i := range docs {
					docs[i] = benchOrder()
				}
				if _, err := coll.InsertMany(ctx, docs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/doc")
		})
	}
}

// benchOrder is an order document as orderstore writes one.
func benchOrder() bson.D {
	now := time.Now()
	return bson.D{
		{Key: "_id", Value: bson.NewObjectID()}, {Key: "userId", Value: "u12345"}, {Key: "productId", Value: "1"},
		{Key: "productName", Value: "A product"}, {Key: "amountSen", Value: int64(9900)}, {Key: "currency", Value: "MYR"},
		{Key: "orderStatus", Value: "Processing"}, {Key: "paymentStatus", Value: "Pending"},
		{Key: "createdAt", Value: now}, {Key: "updatedAt", Value: now},
		{Key: "requestHash", Value: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
	}
}
