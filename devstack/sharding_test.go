package devstack_test

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-kit/log"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/docstore/mongostore"
	"github.com/orderflow/orderflow/ordersvc/orderstore"
	"github.com/orderflow/orderflow/paymentsvc/paymentstore"
)

// The sharding script names every collection the two stores create, each
// either sharded on a hashed _id or left unsharded, so that a collection
// added to a store without a word on how it shards fails here.
func TestTheShardingScriptNamesEveryCollectionTheStoresCreate(t *testing.T) {
	script, err := os.ReadFile("../k8s/helm/orderflow/files/shard-collections.js")
	if err != nil {
		t.Fatal(err)
	}
	named := func(object string) map[string][]string {
		block := regexp.MustCompile(`(?s)const ` + object + ` = \{(.*?)\n\};`).FindSubmatch(script)
		if block == nil {
			t.Fatalf("the script has no %s object", object)
		}
		out := map[string][]string{}
		for _, line := range regexp.MustCompile(`\[(orders|payments)\]: \[([^\]]*)\]`).FindAllStringSubmatch(string(block[1]), -1) {
			for _, c := range regexp.MustCompile(`"([a-z_]+)"`).FindAllStringSubmatch(line[2], -1) {
				out[line[1]] = append(out[line[1]], c[1])
			}
		}
		return out
	}
	sharded, unsharded := named("sharded"), named("unsharded")
	if !strings.Contains(string(script), `sh.shardCollection(`+"`${database}.${c}`"+`, { _id: "hashed" })`) {
		t.Error("the script does not shard on a hashed _id")
	}

	// The collections the stores create, on the embedded FerretDB: there,
	// collection C of database D is database D_C (package mongostore).
	client := mongoClient(t, ferretDB(t).URI)
	ctx := context.Background()
	for name, newStore := range map[string]func(docstore.Database) error{
		"orders": func(db docstore.Database) error {
			_, err := orderstore.NewStore(ctx, db, orderstore.Backoff{Min: 1, Max: 1}, log.NewNopLogger())
			return err
		},
		"payments": func(db docstore.Database) error { _, err := paymentstore.NewStore(ctx, db); return err },
	} {
		db, err := mongostore.New(ctx, client, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := newStore(db); err != nil {
			t.Fatal(err)
		}
	}
	databases, err := client.ListDatabaseNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	created := map[string][]string{}
	for _, d := range databases {
		database, collection, _ := strings.Cut(d, "_")
		names, err := client.Database(d).ListCollectionNames(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names, []string{collection}) {
			t.Errorf("database %s holds %v, not only %s", d, names, collection)
		}
		created[database] = append(created[database], collection)
	}
	for _, db := range []string{"orders", "payments"} {
		have := created[db]
		want := append(slices.Clone(sharded[db]), unsharded[db]...)
		slices.Sort(have)
		slices.Sort(want)
		if !slices.Equal(have, want) {
			t.Errorf("%s: the stores create %v, the script names %v", db, have, want)
		}
	}
}
