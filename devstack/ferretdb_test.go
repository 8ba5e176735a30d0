package devstack_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/orderflow/orderflow/devstack"
	"github.com/orderflow/orderflow/internal/testenv"

	_ "modernc.org/sqlite"
)

// plan returns the SQLite query plan FerretDB reports for a find of id.
// SQLite plans an EXPLAIN with the schema its connection last read, so a
// find comes first: it makes the connection, which the explain then reuses,
// read the schema again, as every real query does when the schema changed.
func plan(t *testing.T, db *mongo.Database, coll string, id any) string {
	t.Helper()
	if err := db.Collection(coll).FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Err(); err != nil {
		t.Fatal(err)
	}
	var res struct {
		QueryPlanner struct {
			Plan []string `bson:"Plan"`
		} `bson:"queryPlanner"`
		FilterPushdown bool `bson:"filterPushdown"`
	}
	cmd := bson.D{{Key: "explain", Value: bson.D{{Key: "find", Value: coll}, {Key: "filter", Value: bson.D{{Key: "_id", Value: id}}}}}}
	if err := db.RunCommand(context.Background(), cmd).Decode(&res); err != nil {
		t.Fatal(err)
	}
	if !res.FilterPushdown {
		t.Fatalf("FerretDB did not send {_id: %v} down to SQL", id)
	}
	return strings.Join(res.QueryPlanner.Plan, "; ")
}

// A lookup by _id, of an ObjectID or a string, reads one row through the
// index the launcher adds, in a collection created while FerretDB runs and
// in one found on disk at start; inserting a taken _id still fails.
func TestFerretDBLooksUpIDsInAnIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: needs a real server")
	}
	dir := t.TempDir()
	start := func() (*devstack.FerretDB, *mongo.Database) {
		f, err := startFerretDB("127.0.0.1:0", dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(f.Stop)
		return f, mongoClient(t, f.URI).Database("orders")
	}
	f, db := start()
	ctx := context.Background()
	oid := bson.NewObjectID()
	for coll, id := range map[string]any{"by_objectid": oid, "by_string": "u1/7"} {
		if _, err := db.Collection(coll).InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "n", Value: 1}}); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, 5*time.Second, coll+": a lookup by _id never used the index: "+plan(t, db, coll, id), func() bool {
			p := plan(t, db, coll, id)
			return strings.Contains(p, "SEARCH") && strings.Contains(p, "_id_lookup")
		})
		if _, err := db.Collection(coll).InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "n", Value: 2}}); !mongo.IsDuplicateKeyError(err) {
			t.Errorf("%s: a second insert of one _id: want a duplicate key error, have %v", coll, err)
		}
	}

	f.Stop()
	_, db = start()
	for coll, id := range map[string]any{"by_objectid": oid, "by_string": "u1/7"} {
		if p := plan(t, db, coll, id); !strings.Contains(p, "SEARCH") {
			t.Errorf("%s after a restart: want SEARCH, have %s", coll, p)
		}
	}
}

// What a commit wrote reaches the database file itself within seconds,
// long before the write-ahead log is full: inserts never wait for that
// copy, and the log stays short. The database file is copied alone, without
// its log, and read.
func TestFerretDBCheckpointsItsLogWhileRunning(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: needs a real server")
	}
	dir := t.TempDir()
	f, err := startFerretDB("127.0.0.1:0", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	ctx := context.Background()
	const n = 100
	docs := make([]any, n)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "i", Value: i}}
	}
	coll := mongoClient(t, f.URI).Database("orders").Collection("checkpointed")
	for _, d := range docs { // one commit each, as the services write
		if _, err := coll.InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}

	inFile := func() int {
		raw, err := os.ReadFile(filepath.Join(dir, "orders.sqlite"))
		if err != nil {
			t.Fatal(err)
		}
		copied := filepath.Join(t.TempDir(), "orders.sqlite")
		if err := os.WriteFile(copied, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("sqlite", "file:"+copied)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var table string
		var count int
		// A copy taken while a checkpoint writes may be torn: read again.
		if db.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = 'checkpointed'`).Scan(&table) != nil ||
			db.QueryRow(`SELECT count(*) FROM "`+table+`"`).Scan(&count) != nil {
			return -1
		}
		return count
	}
	testenv.Eventually(t, 10*time.Second, "the inserts never reached the database file", func() bool {
		return inFile() == n
	})
}
