package mongostore_test

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/docstore/docstoretest"
	"github.com/orderflow/orderflow/internal/docstore/mongostore"
	"github.com/orderflow/orderflow/internal/testenv"
)

// The suite on the embedded FerretDB, with a database of its own per test.
func TestOnFerretDB(t *testing.T) {
	client := testenv.Mongo(t, testenv.FerretDB(t))
	docstoretest.Run(t, func(*testing.T) docstore.Database {
		return mongostore.New(client.Database("t" + bson.NewObjectID().Hex()))
	})
}
