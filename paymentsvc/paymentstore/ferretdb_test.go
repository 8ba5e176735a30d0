package paymentstore_test

import (
	"fmt"
	"testing"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/docstore/mongostore"
	"github.com/orderflow/orderflow/internal/testenv"
)

func TestTheStoreOnFerretDB(t *testing.T) {
	client := testenv.Mongo(t, testenv.FerretDB(t))
	n := 0
	testStore(t, func(*testing.T) docstore.Database {
		n++ // a database of its own for each test
		return mongostore.New(client.Database(fmt.Sprint("payments", n)))
	})
}
