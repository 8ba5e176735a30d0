package orderstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/ordersvc/orderstore"
)

// down is a database whose store went away: collections exist, but every
// read and write fails as a lost connection does.
type down struct{ docstore.Database }

func (d down) Collection(name string) docstore.Collection { return downCollection{} }

type downCollection struct{}

func (downCollection) Insert(context.Context, any) error {
	return fmt.Errorf("%w: connection closed", docstore.ErrUnavailable)
}
func (downCollection) Find(context.Context, any, any) error {
	return fmt.Errorf("%w: connection closed", docstore.ErrUnavailable)
}

// Every failure to reach the store is order.ErrUnavailable, whichever
// method met it, so that a client gets a 503, not a 500.
func TestAnUnreachableStoreIsErrUnavailableEverywhere(t *testing.T) {
	ctx := context.Background()
	db := down{docstore.NewMemory()}
	repo, err := orderstore.NewStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	outbox := orderstore.NewOutbox(db, "r1", 0, orderstore.OutboxClock(testenv.NewClock(time.Now().Add(time.Minute)).Now))
	o := newOrder("u1", time.Now())
	changed := o
	changed.Version = 1
	for name, err := range map[string]error{
		"Create":   repo.Create(ctx, o, nil),
		"Resume":   repo.Resume(ctx, o, nil),
		"Get":      second(repo.Get(ctx, o.ID)),
		"Change":   repo.Change(ctx, changed),
		"List":     third(repo.List(ctx, "u1", 0, 10)),
		"ClaimKey": repo.ClaimKey(ctx, order.KeyClaim{UserID: "u1", Key: "k", OrderID: o.ID}),
		"Key":      second(repo.Key(ctx, "u1", "k")),
		"Schedule": outbox.Schedule(ctx, time.Now(), order.OutboxEntry{OrderID: o.ID, Awaits: order.Pending}),
		"Sweep":    outbox.Sweep(ctx, letGo),
	} {
		if !errors.Is(err, order.ErrUnavailable) {
			t.Errorf("%s: want order.ErrUnavailable, have %v", name, err)
		}
	}
}

// letGo handles a due entry by letting it go.
func letGo(context.Context, order.OutboxEntry) (order.OutboxEntry, time.Time, bool, error) {
	return order.OutboxEntry{}, time.Time{}, false, nil
}

func second[T any](_ T, err error) error        { return err }
func third[T, U any](_ T, _ U, err error) error { return err }
