package devstack_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/kit/metrics"
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
	return func(t *testing.T) docstore.Database {
		db, err := mongostore.New(context.Background(), client, "t"+bson.NewObjectID().Hex())
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
}

// ferretDB starts an embedded FerretDB with its files in a temporary
// folder; the test may stop it.
func ferretDB(t testing.TB) *devstack.FerretDB {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping in -short mode: needs a real server")
	}
	f, err := startFerretDB("127.0.0.1:0", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	return f
}

// ferretDBStarts makes tests that run in parallel start their FerretDB one
// at a time: FerretDB's constructor writes a variable of its own package.
var ferretDBStarts sync.Mutex

// startFerretDB starts an embedded FerretDB on addr with its files in dir.
func startFerretDB(addr, dir string) (*devstack.FerretDB, error) {
	ferretDBStarts.Lock()
	defer ferretDBStarts.Unlock()
	return devstack.StartFerretDB(addr, dir, slog.LevelError+4)
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

// stored returns the collection of the database as the services keep it
// on the store at uri, to read its documents as they are stored.
func stored(t testing.TB, uri, database, collection string) *mongo.Collection {
	t.Helper()
	db, err := mongostore.New(context.Background(), mongoClient(t, uri), database)
	if err != nil {
		t.Fatal(err)
	}
	return db.Mongo(collection)
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

// On FerretDB each collection is a database of its own, so that writes to
// two collections do not wait for one SQLite file; a database name it
// cannot take is refused with the names that made it, and so is a store
// of the earlier layout.
func TestOnFerretDBEachCollectionIsADatabaseOfItsOwn(t *testing.T) {
	client := mongoClient(t, ferretDB(t).URI)
	ctx := context.Background()
	db, err := mongostore.New(ctx, client, "shop")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"carts", "orders"} {
		if err := db.CreateCollection(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := db.Collection(c).Insert(ctx, bson.D{{Key: "_id", Value: c + "/1"}}); err != nil {
			t.Fatal(err)
		}
	}
	names, err := client.ListDatabaseNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(names, "shop_carts") || !slices.Contains(names, "shop_orders") || slices.Contains(names, "shop") {
		t.Errorf("want databases shop_carts and shop_orders and no shop, have %v", names)
	}
	if err := client.Database("shop_orders").Collection("orders").FindOne(ctx, bson.D{{Key: "_id", Value: "orders/1"}}).Err(); err != nil {
		t.Errorf("the document is not in shop_orders.orders: %v", err)
	}

	long, err := mongostore.New(ctx, client, strings.Repeat("x", 60))
	if err != nil {
		t.Fatal(err)
	}
	if err := long.CreateCollection(ctx, "orders"); err == nil || !strings.Contains(err.Error(), "1 to 63 letters") {
		t.Errorf("a database name of 67 characters: want it refused, have %v", err)
	}

	// A database that holds collections itself was written by a version
	// that kept them there: starting on it would hide its orders.
	if err := client.Database("legacy").CreateCollection(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	if _, err := mongostore.New(ctx, client, "legacy"); err == nil || !strings.Contains(err.Error(), "start on a fresh store") {
		t.Errorf("a database of the earlier layout: want it refused, have %v", err)
	}
}

// A Database counts the commands its collections send, and the documents
// they carry: inserts that travel together count as one command.
func TestTheCommandsOfACollectionAreCounted(t *testing.T) {
	ctx := context.Background()
	commands, documents := newTally(), newTally()
	db, err := mongostore.New(ctx, mongoClient(t, ferretDB(t).URI), "counted", mongostore.CountCommands(commands, documents))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCollection(ctx, "things"); err != nil {
		t.Fatal(err)
	}
	c := db.Collection("things")
	for _, id := range []string{"a", "b"} {
		if err := c.Insert(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := docstore.Exists(ctx, c, "a"); !ok || err != nil {
		t.Fatalf("a: want stored, have %v %v", ok, err)
	}
	if err := c.Delete(ctx, "a", "b"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		command        string
		commands, docs float64
	}{{"insert", 2, 2}, {"find", 1, 1}, {"delete", 1, 2}} {
		lvs := []string{"command", want.command, "collection", "things"}
		if n, d := commands.value(lvs...), documents.value(lvs...); n != want.commands || d != want.docs {
			t.Errorf("%s: want %v commands carrying %v documents, have %v carrying %v", want.command, want.commands, want.docs, n, d)
		}
	}
}

// tally is a metrics.Counter that keeps each series' sum.
type tally struct {
	mu     *sync.Mutex
	sums   map[string]float64
	labels []string
}

func newTally() tally { return tally{mu: new(sync.Mutex), sums: map[string]float64{}} }

func (c tally) With(lvs ...string) metrics.Counter {
	c.labels = append(slices.Clone(c.labels), lvs...)
	return c
}

func (c tally) Add(delta float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sums[strings.Join(c.labels, ",")] += delta
}

func (c tally) value(lvs ...string) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sums[strings.Join(lvs, ",")]
}
