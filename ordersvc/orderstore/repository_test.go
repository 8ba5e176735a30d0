package orderstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/docstore/mongostore"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/ordersvc/orderstore"
)

// One suite, one Store, every store under it: what the service relies on
// holds in memory, for fast tests, and on the embedded FerretDB alike.

func TestStoreInMemory(t *testing.T) {
	testStore(t, func(*testing.T) docstore.Database { return docstore.NewMemory() })
}

func TestStoreOnFerretDB(t *testing.T) {
	client := testenv.Mongo(t, testenv.FerretDB(t))
	testStore(t, func(*testing.T) docstore.Database {
		return mongostore.New(client.Database("orders_" + bson.NewObjectID().Hex()))
	})
}

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func newOrder(user string, createdAt time.Time) order.Order {
	return order.Order{
		ID: bson.NewObjectID().Hex(), UserID: user, ProductID: "1", ProductName: "Keyboard",
		Amount: 9900, Status: order.Processing, PaymentStatus: order.Pending,
		CreatedAt: createdAt, UpdatedAt: createdAt, CorrelationID: "req-1", RequestHash: "h",
	}
}

func newStore(t testing.TB, db docstore.Database) *orderstore.Store {
	t.Helper()
	s, err := orderstore.NewStore(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// paid returns o after its payment was recorded.
func paid(o order.Order, correlationID string) order.Order {
	next, _ := o.ApplyPayment(order.PaymentOutcome{OrderID: o.ID, PaymentID: "p1", Paid: true}, o.CreatedAt.Add(time.Second))
	next.CorrelationID = correlationID
	return next
}

func testStore(t *testing.T, newDB func(*testing.T) docstore.Database) {
	ctx := context.Background()

	t.Run("a created order reads back as it was stored, at version 0", func(t *testing.T) {
		repo := newStore(t, newDB(t))
		want := newOrder("u1", t0)
		want.IdempotencyKey = "k1"
		if err := repo.Create(ctx, want, nil); err != nil {
			t.Fatal(err)
		}
		have, err := repo.Get(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if have != want {
			t.Errorf("want %+v, have %+v", want, have)
		}
	})

	t.Run("an unknown or malformed id is ErrNotFound", func(t *testing.T) {
		repo := newStore(t, newDB(t))
		for _, id := range []string{bson.NewObjectID().Hex(), "xyz"} {
			if _, err := repo.Get(ctx, id); !errors.Is(err, order.ErrNotFound) {
				t.Errorf("%s: want ErrNotFound, have %v", id, err)
			}
		}
	})

	t.Run("an order whose first step fails is not stored", func(t *testing.T) {
		repo := newStore(t, newDB(t))
		o := newOrder("u1", t0)
		outboxDown := errors.New("outbox unavailable")
		if err := repo.Create(ctx, o, func(context.Context) error { return outboxDown }); !errors.Is(err, outboxDown) {
			t.Fatalf("want the first step's error, have %v", err)
		}
		if _, err := repo.Get(ctx, o.ID); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("want the order not stored, have %v", err)
		}
		if orders, _, _ := repo.List(ctx, "u1", 0, 10); len(orders) != 0 {
			t.Errorf("want nothing listed, have %+v", orders)
		}
	})

	t.Run("an order id is stored once", func(t *testing.T) {
		repo := newStore(t, newDB(t))
		o := newOrder("u1", t0)
		if err := repo.Create(ctx, o, nil); err != nil {
			t.Fatal(err)
		}
		if err := repo.Create(ctx, o, nil); !errors.Is(err, order.ErrDuplicate) {
			t.Errorf("want ErrDuplicate, have %v", err)
		}
		if page, _, err := repo.List(ctx, "u1", 0, 10); err != nil || len(page) != 1 {
			t.Errorf("want the order listed once, have %d (%v)", len(page), err)
		}
	})

	t.Run("of two replicas that read one version, one changes the order", func(t *testing.T) {
		db := newDB(t)
		a, b := newStore(t, db), newStore(t, db)
		o := newOrder("u1", t0)
		if err := a.Create(ctx, o, nil); err != nil {
			t.Fatal(err)
		}
		fromB, err := b.Get(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		cancelled, _ := o.SetStatus(order.Cancelled, t0.Add(time.Second))
		if err := a.Change(ctx, cancelled); err != nil {
			t.Fatal(err)
		}
		if err := b.Change(ctx, paid(fromB, "req-2")); !errors.Is(err, order.ErrConflict) {
			t.Fatalf("the second change of version 0: want ErrConflict, have %v", err)
		}
		for name, repo := range map[string]*orderstore.Store{"a": a, "b": b} {
			have, err := repo.Get(ctx, o.ID)
			if err != nil || have != cancelled {
				t.Errorf("replica %s: want %+v, have %+v (%v)", name, cancelled, have, err)
			}
		}
		// b learns the order is Cancelled/Pending, and moves it on from there.
		fromB, _ = b.Get(ctx, o.ID)
		refunding, _ := fromB.ApplyPayment(order.PaymentOutcome{OrderID: o.ID, PaymentID: "p1", Paid: true}, t0.Add(2*time.Second))
		if err := b.Change(ctx, refunding); err != nil {
			t.Fatal(err)
		}
		if have, _ := a.Get(ctx, o.ID); have != refunding || have.Version != 2 {
			t.Errorf("replica a: want %+v at version 2, have %+v", refunding, have)
		}
	})

	t.Run("of concurrent changes of one version exactly one is stored", func(t *testing.T) {
		db := newDB(t)
		o := newOrder("u1", t0)
		if err := newStore(t, db).Create(ctx, o, nil); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var won []order.Order
		var wg sync.WaitGroup
		for i := range 6 {
			repo := newStore(t, db) // each a replica of its own
			wg.Go(func() {
				next := paid(o, fmt.Sprintf("req-%d", i))
				switch err := repo.Change(ctx, next); {
				case err == nil:
					mu.Lock()
					won = append(won, next)
					mu.Unlock()
				case !errors.Is(err, order.ErrConflict):
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if len(won) != 1 {
			t.Fatalf("want 1 change stored, have %d", len(won))
		}
		if have, _ := newStore(t, db).Get(ctx, o.ID); have != won[0] {
			t.Errorf("want the winner's change, have %+v", have)
		}
	})

	t.Run("Peek knows what this replica saw, never more", func(t *testing.T) {
		db := newDB(t)
		a, b := newStore(t, db), newStore(t, db)
		o := newOrder("u1", t0)
		if err := a.Create(ctx, o, nil); err != nil {
			t.Fatal(err)
		}
		if _, ok := b.Peek(o.ID); ok {
			t.Error("b knows an order it never read")
		}
		if err := b.Change(ctx, paid(o, "req-2")); err != nil {
			t.Fatal(err)
		}
		if have, ok := a.Peek(o.ID); !ok || have.Version != 0 {
			t.Errorf("a: want version 0, have %+v %v", have, ok)
		}
		if have, ok := b.Peek(o.ID); !ok || have.Version != 1 {
			t.Errorf("b: want version 1, have %+v %v", have, ok)
		}
	})

	t.Run("an idempotency key is claimed once per user", func(t *testing.T) {
		repo := newStore(t, newDB(t))
		claim := order.KeyClaim{UserID: "u1", Key: "key-1", OrderID: bson.NewObjectID().Hex(), RequestHash: "h", CreatedAt: t0}
		if err := repo.ClaimKey(ctx, claim); err != nil {
			t.Fatal(err)
		}
		second := claim
		second.OrderID = bson.NewObjectID().Hex()
		if err := repo.ClaimKey(ctx, second); !errors.Is(err, order.ErrDuplicate) {
			t.Errorf("same user, same key: want ErrDuplicate, have %v", err)
		}
		other := second
		other.UserID = "u2"
		if err := repo.ClaimKey(ctx, other); err != nil {
			t.Errorf("other user, same key: want nil, have %v", err)
		}
		if have, err := repo.Key(ctx, "u1", "key-1"); err != nil || have != claim {
			t.Errorf("want %+v, have %+v (%v)", claim, have, err)
		}
		if _, err := repo.Key(ctx, "u3", "key-1"); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("unknown key: want ErrNotFound, have %v", err)
		}
	})

	t.Run("a list pages newest first, as any replica reads it", func(t *testing.T) {
		db := newDB(t)
		writer := newStore(t, db)
		for _, size := range []int{1, 2, 3, 7, 50} {
			user := fmt.Sprintf("u%d", size)
			var want []string
			for i := range size {
				o := newOrder(user, t0.Add(time.Duration(i)*time.Millisecond))
				if err := writer.Create(ctx, o, nil); err != nil {
					t.Fatal(err)
				}
				want = append([]string{o.ID}, want...)
			}
			if err := writer.Create(ctx, newOrder("someone-else", t0), nil); err != nil {
				t.Fatal(err)
			}
			for name, repo := range map[string]*orderstore.Store{"the writer": writer, "another replica": newStore(t, db)} {
				var have []string
				from := order.Position(0)
				for page := 0; page < 100; page++ {
					orders, next, err := repo.List(ctx, user, from, 3)
					if err != nil {
						t.Fatal(err)
					}
					for _, o := range orders {
						have = append(have, o.ID)
					}
					if next == 0 {
						break
					}
					from = next
				}
				if fmt.Sprint(have) != fmt.Sprint(want) {
					t.Errorf("%d orders, read by %s: want %v, have %v", size, name, want, have)
				}
			}
		}
		if orders, next, err := writer.List(ctx, "nobody", 0, 10); err != nil || len(orders) != 0 || next != 0 {
			t.Errorf("a user without orders: want an empty last page, have %d, %d (%v)", len(orders), next, err)
		}
	})

	t.Run("a list shows each order at its latest version", func(t *testing.T) {
		db := newDB(t)
		a, b := newStore(t, db), newStore(t, db)
		o := newOrder("u1", t0)
		if err := a.Create(ctx, o, nil); err != nil {
			t.Fatal(err)
		}
		p := paid(o, "req-2")
		if err := b.Change(ctx, p); err != nil {
			t.Fatal(err)
		}
		orders, _, err := a.List(ctx, "u1", 0, 10)
		if err != nil || len(orders) != 1 || orders[0] != p {
			t.Errorf("want %+v, have %+v (%v)", p, orders, err)
		}
	})

	t.Run("a page of a list shows orders changed after it was written at their latest", func(t *testing.T) {
		db := newDB(t)
		writer, other := newStore(t, db), newStore(t, db)
		var orders []order.Order
		for i := range 10 { // a full page
			o := newOrder("u1", t0.Add(time.Duration(i)*time.Millisecond))
			if err := writer.Create(ctx, o, nil); err != nil {
				t.Fatal(err)
			}
			orders = append(orders, o)
		}
		testenv.Eventually(t, 5*time.Second, "the full page was never written", func() bool {
			var page bson.M
			return db.Collection("user_orders").Find(ctx, "u1/p0", &page) == nil
		})
		p := paid(orders[3], "req-2")
		if err := other.Change(ctx, p); err != nil {
			t.Fatal(err)
		}
		for name, repo := range map[string]*orderstore.Store{"the writer": writer, "another replica": other, "a new replica": newStore(t, db)} {
			list, _, err := repo.List(ctx, "u1", 0, 10)
			if err != nil || len(list) != 10 || list[6] != p {
				t.Errorf("%s: want order 4 of 10 at %+v, have %+v (%v)", name, p, list, err)
			}
		}
	})

	t.Run("a list leaves out an entry whose order was never stored", func(t *testing.T) {
		db := newDB(t)
		repo := newStore(t, db)
		first := newOrder("u1", t0)
		if err := repo.Create(ctx, first, nil); err != nil {
			t.Fatal(err)
		}
		// A creation that listed its order, then failed to store it.
		lost := bson.NewObjectID()
		if err := db.Collection("user_orders").Insert(ctx, bson.D{{Key: "_id", Value: "u1/2"}, {Key: "orderId", Value: lost}, {Key: "userId", Value: "u1"}}); err != nil {
			t.Fatal(err)
		}
		last := newOrder("u1", t0.Add(time.Second))
		if err := repo.Create(ctx, last, nil); err != nil {
			t.Fatal(err)
		}
		for _, r := range []*orderstore.Store{repo, newStore(t, db)} {
			orders, _, err := r.List(ctx, "u1", 0, 10)
			if err != nil || len(orders) != 2 || orders[0].ID != last.ID || orders[1].ID != first.ID {
				t.Errorf("want [%s %s], have %+v (%v)", last.ID, first.ID, orders, err)
			}
		}
	})

	t.Run("an order whose creation is resumed is listed once", func(t *testing.T) {
		db := newDB(t)
		repo := newStore(t, db)
		o := newOrder("u1", t0)
		// The first request listed the order and died before storing it.
		if err := db.Collection("user_orders").Insert(ctx, bson.D{{Key: "_id", Value: "u1/1"}, {Key: "orderId", Value: mustOID(o.ID)}, {Key: "userId", Value: "u1"}}); err != nil {
			t.Fatal(err)
		}
		if err := newStore(t, db).Resume(ctx, o, nil); err != nil {
			t.Fatal(err)
		}
		orders, _, err := repo.List(ctx, "u1", 0, 10)
		if err != nil || len(orders) != 1 || orders[0].ID != o.ID {
			t.Errorf("want [%s], have %+v (%v)", o.ID, orders, err)
		}
		// A request that died before listing it: resuming lists it.
		unlisted := newOrder("u1", t0)
		if err := repo.Resume(ctx, unlisted, nil); err != nil {
			t.Fatal(err)
		}
		if orders, _, _ := repo.List(ctx, "u1", 0, 10); len(orders) != 2 || orders[0].ID != unlisted.ID {
			t.Errorf("want the resumed order first of 2, have %+v", orders)
		}
	})
}

func mustOID(hex string) bson.ObjectID {
	id, err := bson.ObjectIDFromHex(hex)
	if err != nil {
		panic(err)
	}
	return id
}
