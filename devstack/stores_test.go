package devstack_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/orderflow/orderflow/devstack"
	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/docstore/docstoretest"
	"github.com/orderflow/orderflow/internal/docstore/mongostore"
	"github.com/orderflow/orderflow/ordersvc/orderstore/orderstoretest"
)

// The stores' suites on the embedded FerretDB, each test with a database of
// its own: what they prove in memory holds on a MongoDB-protocol server.
// They live here, where the embedded FerretDB is, so that no other test
// binary links it.

func TestDocstoreOnFerretDB(t *testing.T) {
	docstoretest.Run(t, freshDatabases(t))
}

func TestOrderStoreOnFerretDB(t *testing.T) {
	orderstoretest.Run(t, freshDatabases(t))
}

// freshDatabases returns a maker of empty databases on one FerretDB.
func freshDatabases(t *testing.T) func(*testing.T) docstore.Database {
	client := mongoClient(t, ferretDB(t).URI)
	return func(*testing.T) docstore.Database {
		return mongostore.New(client.Database("t" + bson.NewObjectID().Hex()))
	}
}

// ferretDB starts an embedded FerretDB with its files in a temporary
// folder; the test may stop it.
func ferretDB(t testing.TB) *devstack.FerretDB {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping in -short mode: needs a real server")
	}
	f, err := devstack.StartFerretDB("127.0.0.1:0", t.TempDir(), slog.LevelError+4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	return f
}

// mongoClient returns a client of the MongoDB at uri, disconnected when the
// test ends.
func mongoClient(t testing.TB, uri string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

// A write the store refuses for what it holds (here a field name MongoDB
// does not allow) is ErrRejected, not an outage: retrying it would be
// refused again, and a client must not be told to retry.
func TestAWriteTheStoreRefusesIsNotAnOutage(t *testing.T) {
	db := freshDatabases(t)(t)
	bad := bson.D{{Key: "_id", Value: "bad"}, {Key: "$where", Value: 1}}
	err := db.Collection("things").Insert(context.Background(), bad)
	if !errors.Is(err, docstore.ErrRejected) || errors.Is(err, docstore.ErrUnavailable) {
		t.Errorf("want ErrRejected, not ErrUnavailable; have %v", err)
	}
	if err := db.Collection("things").Insert(context.Background(), bson.D{{Key: "_id", Value: "small"}}); err != nil {
		t.Errorf("the next write goes on: have %v", err)
	}
}
