package payment_test

import (
	"context"
	"testing"

	"github.com/orderflow/orderflow/internal/docstore/mongostore"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/paymentsvc/paymentstore"
)

// The races of the use cases, run again on the Store in the embedded
// FerretDB: there they are settled by MongoDB's semantics for inserts and
// lookups by _id, which FerretDB shares, rather than by a map in memory.

func TestOnFerretDBAnOrderIsChargedOnceHoweverOftenItIsAskedFor(t *testing.T) {
	chargedOnceHoweverOftenAskedFor(t, newFerretDBRepo(t))
}

func TestOnFerretDBTwoReplicasAskedAtOnceChargeOnce(t *testing.T) {
	twoReplicasAskedAtOnceChargeOnce(t, newFerretDBRepo(t))
}

// newFerretDBRepo returns a Store on a database of its own in the embedded
// FerretDB.
func newFerretDBRepo(t *testing.T) *paymentstore.Store {
	t.Helper()
	client := testenv.Mongo(t, testenv.FerretDB(t))
	repo, err := paymentstore.NewStore(context.Background(), mongostore.New(client.Database("payments")))
	if err != nil {
		t.Fatal(err)
	}
	return repo
}
