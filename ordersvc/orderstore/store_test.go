package orderstore_test

import (
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/ordersvc/orderstore"
	"github.com/orderflow/orderflow/ordersvc/orderstore/orderstoretest"
)

// The suite in memory; devstack runs it on the embedded FerretDB.
func TestStoreInMemory(t *testing.T) {
	orderstoretest.Run(t, func(*testing.T) docstore.Database { return docstore.NewMemory() })
}

func TestBackoffDoublesUpToItsCap(t *testing.T) {
	b := orderstore.Backoff{Min: time.Second, Max: 10 * time.Second}
	want := []time.Duration{1, 2, 4, 8, 10, 10}
	for n, w := range want {
		if have := b.Delay(n); have != w*time.Second {
			t.Errorf("delay %d: want %v, have %v", n, w*time.Second, have)
		}
	}
	if have := b.Delay(1000); have != b.Max {
		t.Errorf("delay 1000: want %v, have %v", b.Max, have)
	}
}
