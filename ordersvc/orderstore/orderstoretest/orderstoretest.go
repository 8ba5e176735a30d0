// Package orderstoretest is what ordersvc relies on of its store, as one
// suite that runs on every database the Store runs on: in memory, in
// orderstore's own tests, and on the embedded FerretDB, in devstack's.
package orderstoretest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/ordersvc/orderstore"
)

// T0 is the time the suite's orders are created at.
var T0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// Backoff is the outbox's in the suite: an order is announced again 1 s
// after it was created, then 2 s later, then every 4 s.
var Backoff = orderstore.Backoff{Min: time.Second, Max: 4 * time.Second}

// NewOrder returns a new order of user, created at createdAt.
func NewOrder(user string, createdAt time.Time) order.Order {
	return order.Order{
		ID: bson.NewObjectID().Hex(), UserID: user, ProductID: "1", ProductName: "Keyboard",
		Amount: 9900, Status: order.Processing, PaymentStatus: order.Pending,
		CreatedAt: createdAt, UpdatedAt: createdAt, CorrelationID: "req-1", RequestHash: "h",
	}
}

// Entry is the outbox entry of a new order.
func Entry(o order.Order) order.OutboxEntry {
	return order.OutboxEntry{OrderID: o.ID, Awaits: order.Pending, Since: o.CreatedAt}
}

// NewStore returns a Store of db whose time is c's.
func NewStore(t testing.TB, db docstore.Database, c *testenv.Clock, opts ...orderstore.Option) *orderstore.Store {
	t.Helper()
	s, err := orderstore.NewStore(context.Background(), db, Backoff, log.NewNopLogger(), append([]orderstore.Option{orderstore.WithClock(c.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// pay is an Update's change: the order's payment came back Paid.
func pay(o order.Order) (order.Order, *order.OutboxEntry, error) {
	return o.ApplyPayment(order.PaymentOutcome{OrderID: o.ID, PaymentID: "p1", Paid: true}, o.CreatedAt.Add(time.Second)), nil, nil
}

// cancel is an Update's change: the client cancelled the order. A paid
// order then awaits its refund.
func cancel(o order.Order) (order.Order, *order.OutboxEntry, error) {
	next, err := o.SetStatus(order.Cancelled, o.UpdatedAt.Add(time.Second))
	if err != nil || next.Awaits() != order.Refunding || o.Awaits() == order.Refunding {
		return next, nil, err
	}
	return next, &order.OutboxEntry{OrderID: o.ID, Awaits: order.Refunding, Since: next.UpdatedAt}, nil
}

// announcements records what a sweep hands over.
type announcements struct {
	mu   sync.Mutex
	seen []string // "<orderId> <awaits> <attempt>"
}

func (a *announcements) announce(_ context.Context, o order.Order, attempt int) error {
	a.mu.Lock()
	a.seen = append(a.seen, fmt.Sprintf("%s %s %d", o.ID, o.Awaits(), attempt))
	a.mu.Unlock()
	return nil
}

func (a *announcements) list() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}

// Run runs the suite; newDB returns an empty Database for each test.
func Run(t *testing.T, newDB func(t *testing.T) docstore.Database) {
	ctx := context.Background()

	t.Run("a created order reads back as it was stored, at version 0", func(t *testing.T) {
		repo := NewStore(t, newDB(t), testenv.NewClock(T0))
		want := NewOrder("u1", T0)
		want.IdempotencyKey = "k1"
		if err := repo.Create(ctx, want, Entry(want)); err != nil {
			t.Fatal(err)
		}
		if have, err := repo.Get(ctx, want.ID); err != nil || have != want {
			t.Errorf("want %+v, have %+v (%v)", want, have, err)
		}
		if have, err := NewStore(t, newDB(t), testenv.NewClock(T0)).Get(ctx, want.ID); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("another database: want ErrNotFound, have %+v (%v)", have, err)
		}
	})

	t.Run("an unknown or malformed id is ErrNotFound, to Get and to Update", func(t *testing.T) {
		repo := NewStore(t, newDB(t), testenv.NewClock(T0))
		for _, id := range []string{bson.NewObjectID().Hex(), "xyz"} {
			if _, err := repo.Get(ctx, id); !errors.Is(err, order.ErrNotFound) {
				t.Errorf("Get %s: want ErrNotFound, have %v", id, err)
			}
			if _, err := repo.Update(ctx, id, pay); !errors.Is(err, order.ErrNotFound) {
				t.Errorf("Update %s: want ErrNotFound, have %v", id, err)
			}
		}
	})

	t.Run("an order whose outbox entry cannot be written is not stored", func(t *testing.T) {
		db := newDB(t)
		repo := NewStore(t, failing{Database: db, collection: "outbox"}, testenv.NewClock(T0))
		o := NewOrder("u1", T0)
		if err := repo.Create(ctx, o, Entry(o)); !errors.Is(err, order.ErrUnavailable) {
			t.Fatalf("want ErrUnavailable, have %v", err)
		}
		if _, err := NewStore(t, db, testenv.NewClock(T0)).Get(ctx, o.ID); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("want the order not stored, have %v", err)
		}
	})

	t.Run("an order id is stored once, and listed once", func(t *testing.T) {
		repo := NewStore(t, newDB(t), testenv.NewClock(T0))
		o := NewOrder("u1", T0)
		if err := repo.Create(ctx, o, Entry(o)); err != nil {
			t.Fatal(err)
		}
		if err := repo.Create(ctx, o, Entry(o)); !errors.Is(err, order.ErrDuplicate) {
			t.Errorf("want ErrDuplicate, have %v", err)
		}
		if page, _, err := repo.List(ctx, "u1", "", 10); err != nil || len(page) != 1 {
			t.Errorf("want the order listed once, have %d (%v)", len(page), err)
		}
	})

	t.Run("a change made on another replica is the start of the next, whatever this one saw", func(t *testing.T) {
		db, c := newDB(t), testenv.NewClock(T0)
		a, b := NewStore(t, db, c), NewStore(t, db, c)
		o := NewOrder("u1", T0)
		if err := a.Create(ctx, o, Entry(o)); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Get(ctx, o.ID); err != nil { // b saw version 0
			t.Fatal(err)
		}
		if _, err := a.Update(ctx, o.ID, cancel); err != nil {
			t.Fatal(err)
		}
		have, err := b.Update(ctx, o.ID, pay) // from version 1, Cancelled: a refund
		if err != nil || have.Version != 2 || have.Status != order.Cancelled || have.PaymentStatus != order.Refunding {
			t.Fatalf("want Cancelled/Refunding at version 2, have %s/%s at %d (%v)", have.Status, have.PaymentStatus, have.Version, err)
		}
		if fromA, _ := a.Get(ctx, o.ID); fromA != have {
			t.Errorf("replica a: want %+v, have %+v", have, fromA)
		}
	})

	t.Run("a change refused or making no change is judged on the latest version", func(t *testing.T) {
		db, c := newDB(t), testenv.NewClock(T0)
		a, b := NewStore(t, db, c), NewStore(t, db, c)
		o := NewOrder("u1", T0)
		if err := a.Create(ctx, o, Entry(o)); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Get(ctx, o.ID); err != nil { // b saw it Processing
			t.Fatal(err)
		}
		if _, err := a.Update(ctx, o.ID, pay); err != nil {
			t.Fatal(err)
		}
		confirm := func(o order.Order) (order.Order, *order.OutboxEntry, error) {
			next, err := o.SetStatus(order.Confirmed, o.UpdatedAt.Add(time.Second))
			return next, nil, err
		}
		have, err := b.Update(ctx, o.ID, confirm) // refused from Processing, allowed from Success
		if err != nil || have.Status != order.Confirmed || have.Version != 2 {
			t.Errorf("want Confirmed at version 2, have %s at %d (%v)", have.Status, have.Version, err)
		}
		have, err = a.Update(ctx, o.ID, pay) // a saw Success/Paid: nothing to change, from Confirmed either
		if err != nil || have.Status != order.Confirmed || have.Version != 2 {
			t.Errorf("a duplicate payment: want Confirmed at version 2 unchanged, have %s at %d (%v)", have.Status, have.Version, err)
		}
	})

	t.Run("of concurrent changes of one order on many replicas each starts from the one before", func(t *testing.T) {
		db, c := newDB(t), testenv.NewClock(T0)
		o := NewOrder("u1", T0)
		if err := NewStore(t, db, c).Create(ctx, o, Entry(o)); err != nil {
			t.Fatal(err)
		}
		var changed atomic.Int32
		var wg sync.WaitGroup
		for range 6 {
			repo := NewStore(t, db, c) // each a replica of its own
			if _, err := repo.Get(ctx, o.ID); err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				have, err := repo.Update(ctx, o.ID, func(o order.Order) (order.Order, *order.OutboxEntry, error) {
					next, entry, err := pay(o)
					if next.Version != o.Version {
						changed.Add(1)
					}
					return next, entry, err
				})
				if err != nil && !errors.Is(err, order.ErrConflict) {
					t.Error(err)
				}
				if err == nil && (have.PaymentStatus != order.Paid || have.Version != 1) {
					t.Errorf("want Paid at version 1, have %s at %d", have.PaymentStatus, have.Version)
				}
			})
		}
		wg.Wait()
		if have, _ := NewStore(t, db, c).Get(ctx, o.ID); have.Version != 1 || have.PaymentStatus != order.Paid {
			t.Errorf("want the payment applied once, at version 1; have %s at %d", have.PaymentStatus, have.Version)
		}
	})

	t.Run("an idempotency key is claimed once per user; later claims get the first", func(t *testing.T) {
		repo := NewStore(t, newDB(t), testenv.NewClock(T0))
		claim := order.KeyClaim{UserID: "u1", Key: "key-1", OrderID: bson.NewObjectID().Hex(), RequestHash: "h", CreatedAt: T0}
		if have, err := repo.ClaimKey(ctx, claim); err != nil || have != claim {
			t.Fatalf("want %+v, have %+v (%v)", claim, have, err)
		}
		second := claim
		second.OrderID, second.RequestHash = bson.NewObjectID().Hex(), "h2"
		if have, err := repo.ClaimKey(ctx, second); err != nil || have != claim {
			t.Errorf("same user, same key: want the first claim %+v, have %+v (%v)", claim, have, err)
		}
		other := second
		other.UserID = "u2"
		if have, err := repo.ClaimKey(ctx, other); err != nil || have != other {
			t.Errorf("other user, same key: want %+v, have %+v (%v)", other, have, err)
		}
	})

	t.Run("a key named like a list's number or page takes no place in the list", func(t *testing.T) {
		db := newDB(t)
		repo := NewStore(t, db, testenv.NewClock(T0))
		for i, key := range []string{"1", "p0", "2"} {
			o := NewOrder("u1", T0.Add(time.Duration(i)*time.Second))
			if _, err := repo.ClaimKey(ctx, order.KeyClaim{UserID: "u1", Key: key, OrderID: o.ID, RequestHash: "h", CreatedAt: T0}); err != nil {
				t.Fatal(err)
			}
			if err := repo.Create(ctx, o, Entry(o)); err != nil {
				t.Fatal(err)
			}
		}
		if orders, _, err := NewStore(t, db, testenv.NewClock(T0)).List(ctx, "u1", "", 10); err != nil || len(orders) != 3 {
			t.Errorf("want 3 orders listed, have %d (%v)", len(orders), err)
		}
	})

	t.Run("a store an earlier version wrote keeps its orders and keys where it wrote them", func(t *testing.T) {
		db, c := newDB(t), testenv.NewClock(T0)
		o := NewOrder("u1", T0)
		oid, _ := bson.ObjectIDFromHex(o.ID)
		// That version kept an order as created under its id in "orders",
		// and a key under "<userId>/<key>" in "idempotency_keys".
		for coll, doc := range map[string]bson.D{
			"orders":           append(bson.D{{Key: "_id", Value: oid}}, asStored(o)...),
			"user_orders":      append(bson.D{{Key: "_id", Value: "u1/1"}, {Key: "orderId", Value: oid}}, asStored(o)...),
			"idempotency_keys": {{Key: "_id", Value: "u1/k1"}, {Key: "orderId", Value: o.ID}, {Key: "requestHash", Value: "h"}, {Key: "createdAt", Value: T0}},
		} {
			if err := db.Collection(coll).Insert(ctx, doc); err != nil {
				t.Fatal(err)
			}
		}
		repo := NewStore(t, db, c)
		if have, err := repo.Get(ctx, o.ID); err != nil || have != o {
			t.Errorf("want %+v, have %+v (%v)", o, have, err)
		}
		retry := order.KeyClaim{UserID: "u1", Key: "k1", OrderID: bson.NewObjectID().Hex(), RequestHash: "h", CreatedAt: T0}
		if have, err := repo.ClaimKey(ctx, retry); err != nil || have.OrderID != o.ID {
			t.Errorf("a retry with its key: want the claim of %s, have %+v (%v)", o.ID, have, err)
		}
		if _, err := repo.Update(ctx, o.ID, pay); err != nil {
			t.Fatal(err)
		}
		other := NewStore(t, db, c)
		if have, err := other.Get(ctx, o.ID); err != nil || have.PaymentStatus != order.Paid || have.Version != 1 {
			t.Errorf("want it paid at version 1, have %+v (%v)", have, err)
		}
		if orders, _, err := other.List(ctx, "u1", "", 10); err != nil || len(orders) != 1 || orders[0].PaymentStatus != order.Paid {
			t.Errorf("want it listed, paid; have %+v (%v)", orders, err)
		}
	})

	t.Run("a list pages newest first, as any replica reads it", func(t *testing.T) {
		db, c := newDB(t), testenv.NewClock(T0)
		writer := NewStore(t, db, c)
		for _, size := range []int{1, 2, 3, 7, 50} {
			user := fmt.Sprintf("u%d", size)
			var want []string
			for i := range size {
				o := NewOrder(user, T0.Add(time.Duration(i)*time.Millisecond))
				if err := writer.Create(ctx, o, Entry(o)); err != nil {
					t.Fatal(err)
				}
				want = append([]string{o.ID}, want...)
			}
			if o := NewOrder("someone-else", T0); writer.Create(ctx, o, Entry(o)) != nil {
				t.Fatal("creating someone else's order failed")
			}
			for name, repo := range map[string]*orderstore.Store{"the writer": writer, "another replica": NewStore(t, db, c)} {
				var have []string
				cursor := ""
				for page := 0; page < 100; page++ {
					orders, next, err := repo.List(ctx, user, cursor, 3)
					if err != nil {
						t.Fatal(err)
					}
					for _, o := range orders {
						have = append(have, o.ID)
					}
					if next == "" {
						break
					}
					cursor = next
				}
				if fmt.Sprint(have) != fmt.Sprint(want) {
					t.Errorf("%d orders, read by %s: want %v, have %v", size, name, want, have)
				}
			}
		}
		if orders, next, err := writer.List(ctx, "nobody", "", 10); err != nil || len(orders) != 0 || next != "" {
			t.Errorf("a user without orders: want an empty last page, have %d, %q (%v)", len(orders), next, err)
		}
	})

	t.Run("a cursor not given for this user's list is ErrInvalidCursor", func(t *testing.T) {
		db, c := newDB(t), testenv.NewClock(T0)
		repo := NewStore(t, db, c)
		for i := range 12 {
			for _, user := range []string{"u1", "u2"} {
				o := NewOrder(user, T0.Add(time.Duration(i)*time.Millisecond))
				if err := repo.Create(ctx, o, Entry(o)); err != nil {
					t.Fatal(err)
				}
			}
		}
		_, u1Next, err := repo.List(ctx, "u1", "", 5)
		if err != nil || u1Next == "" {
			t.Fatalf("want a next page, have %q (%v)", u1Next, err)
		}
		forged := func(text string) string { return base64.RawURLEncoding.EncodeToString([]byte(text)) }
		u1Tag := func(n int) string { // what a cursor of u1's list holds, at position n
			c, _ := base64.RawURLEncoding.DecodeString(u1Next)
			_, tag, _ := strings.Cut(string(c), ".")
			return forged(fmt.Sprintf("n%d.%s", n, tag))
		}
		for name, tc := range map[string]struct {
			user, cursor string
		}{
			"another user's":           {"u2", u1Next},
			"past the end of the list": {"u1", u1Tag(13)},
			"far past the end":         {"u1", u1Tag(1 << 40)},
			"of no list":               {"nobody", u1Next},
			"position 0":               {"u1", u1Tag(0)},
			"not base64":               {"u1", "!!"},
			"not a cursor":             {"u1", forged("hello")},
		} {
			for _, r := range []*orderstore.Store{repo, NewStore(t, db, c)} { // one that knows the list, one that does not
				if orders, _, err := r.List(ctx, tc.user, tc.cursor, 5); !errors.Is(err, order.ErrInvalidCursor) {
					t.Errorf("%s cursor: want ErrInvalidCursor, have %d orders (%v)", name, len(orders), err)
				}
			}
		}
		if orders, _, err := NewStore(t, db, c).List(ctx, "u1", u1Tag(12), 5); err != nil || len(orders) != 5 {
			t.Errorf("the last position, forged: still a place in the list; have %d (%v)", len(orders), err)
		}
	})

	t.Run("a list shows each order at its latest version, pages too", func(t *testing.T) {
		db, c := newDB(t), testenv.NewClock(T0)
		writer, other := NewStore(t, db, c), NewStore(t, db, c)
		var orders []order.Order
		for i := range 10 { // a full page
			o := NewOrder("u1", T0.Add(time.Duration(i)*time.Millisecond))
			if err := writer.Create(ctx, o, Entry(o)); err != nil {
				t.Fatal(err)
			}
			orders = append(orders, o)
		}
		if _, _, err := NewStore(t, db, c).List(ctx, "u1", "", 10); err != nil { // writes the page
			t.Fatal(err)
		}
		p, err := other.Update(ctx, orders[3].ID, pay)
		if err != nil {
			t.Fatal(err)
		}
		for name, repo := range map[string]*orderstore.Store{"the writer": writer, "the replica that changed it": other, "a new replica": NewStore(t, db, c)} {
			list, _, err := repo.List(ctx, "u1", "", 10)
			if err != nil || len(list) != 10 || list[6] != p {
				t.Errorf("%s: want order 4 of 10 at %+v, have %+v (%v)", name, p, list, err)
			}
		}
	})

	t.Run("a list leaves out an entry whose order is not stored, until it is", func(t *testing.T) {
		db, c := newDB(t), testenv.NewClock(T0)
		repo := NewStore(t, db, c)
		var created []order.Order
		for i := range 9 {
			o := NewOrder("u1", T0.Add(time.Duration(i)*time.Millisecond))
			if err := repo.Create(ctx, o, Entry(o)); err != nil {
				t.Fatal(err)
			}
			created = append(created, o)
		}
		// The tenth is listed, and not stored yet (or ever): its creation
		// is on its way.
		late := NewOrder("u1", T0.Add(time.Second))
		oid, _ := bson.ObjectIDFromHex(late.ID)
		if err := db.Collection("user_orders").Insert(ctx, bson.D{{Key: "_id", Value: "u1/10"}, {Key: "orderId", Value: oid}, {Key: "userId", Value: "u1"}}); err != nil {
			t.Fatal(err)
		}
		for _, r := range []*orderstore.Store{repo, NewStore(t, db, c)} {
			if orders, _, err := r.List(ctx, "u1", "", 20); err != nil || len(orders) != 9 || orders[0].ID != created[8].ID {
				t.Errorf("want the 9 stored, newest first; have %d (%v)", len(orders), err)
			}
		}
		if err := db.Collection("order_changes").Insert(ctx, append(bson.D{{Key: "_id", Value: late.ID + "/0"}}, asStored(late)...)); err != nil {
			t.Fatal(err)
		}
		for _, r := range []*orderstore.Store{repo, NewStore(t, db, c)} {
			if orders, _, err := r.List(ctx, "u1", "", 20); err != nil || len(orders) != 10 || orders[0].ID != late.ID {
				t.Errorf("once stored, it is listed first of 10; have %d (%v)", len(orders), err)
			}
		}
	})

	t.Run("an order whose creation an earlier request began is listed once", func(t *testing.T) {
		db, c := newDB(t), testenv.NewClock(T0)
		repo := NewStore(t, db, c)
		o := NewOrder("u1", T0)
		o.IdempotencyKey = "k"
		// The first request claimed the key, listed the order and died
		// before storing it.
		claim := order.KeyClaim{UserID: "u1", Key: "k", OrderID: o.ID, RequestHash: "h", CreatedAt: T0}
		if _, err := repo.ClaimKey(ctx, claim); err != nil {
			t.Fatal(err)
		}
		oid, _ := bson.ObjectIDFromHex(o.ID)
		if err := db.Collection("user_orders").Insert(ctx, bson.D{{Key: "_id", Value: "u1/1"}, {Key: "orderId", Value: oid}, {Key: "userId", Value: "u1"}}); err != nil {
			t.Fatal(err)
		}
		retry := NewStore(t, db, c)
		claim.OrderID = bson.NewObjectID().Hex()
		if first, err := retry.ClaimKey(ctx, claim); err != nil || first.OrderID != o.ID {
			t.Fatalf("want the first claim, of %s; have %+v (%v)", o.ID, first, err)
		}
		if err := retry.Create(ctx, o, Entry(o)); err != nil {
			t.Fatal(err)
		}
		orders, _, err := repo.List(ctx, "u1", "", 10)
		if err != nil || len(orders) != 1 || orders[0].ID != o.ID {
			t.Errorf("want [%s], have %+v (%v)", o.ID, orders, err)
		}
	})

	t.Run("the outbox announces an unanswered order again, later and later, until it is answered", func(t *testing.T) {
		db, c := newDB(t), testenv.NewClock(T0)
		repo, seen := NewStore(t, db, c), &announcements{}
		o := NewOrder("u1", T0)
		if err := repo.Create(ctx, o, Entry(o)); err != nil {
			t.Fatal(err)
		}
		sweepUntil(t, c, T0.Add(9*time.Second), seen.announce, repo) // due at 1, 3, 7 s
		want := []string{o.ID + " Pending 1", o.ID + " Pending 2", o.ID + " Pending 3"}
		if have := seen.list(); fmt.Sprint(have) != fmt.Sprint(want) {
			t.Errorf("want %v, have %v", want, have)
		}
		if _, err := repo.Update(ctx, o.ID, pay); err != nil {
			t.Fatal(err)
		}
		sweepUntil(t, c, T0.Add(time.Minute), seen.announce, repo)
		if have := seen.list(); len(have) != len(want) {
			t.Errorf("paid, it is announced no more: have %v", have[len(want):])
		}
		if n := outboxSize(t, db); n != 0 {
			t.Errorf("want the outbox empty, have %d entries", n)
		}
	})

	t.Run("an order answered at once leaves the outbox, before its time when it was answered where it was created", func(t *testing.T) {
		db, c := newDB(t), testenv.NewClock(T0)
		repo, seen := NewStore(t, db, c), &announcements{}
		for i := range 20 {
			o := NewOrder("u1", T0.Add(time.Duration(i)*time.Millisecond))
			if err := repo.Create(ctx, o, Entry(o)); err != nil {
				t.Fatal(err)
			}
			if _, err := repo.Update(ctx, o.ID, pay); err != nil {
				t.Fatal(err)
			}
		}
		if err := repo.Sweep(ctx, seen.announce); err != nil { // none due yet
			t.Fatal(err)
		}
		if n := outboxSize(t, db); n != 0 {
			t.Errorf("answered by the replica that created them: want the outbox empty at its next sweep, have %d entries", n)
		}
		o := NewOrder("u1", T0)
		if err := repo.Create(ctx, o, Entry(o)); err != nil {
			t.Fatal(err)
		}
		if _, err := NewStore(t, db, c).Update(ctx, o.ID, pay); err != nil { // answered by another replica
			t.Fatal(err)
		}
		sweepUntil(t, c, T0.Add(Backoff.Min+time.Second), seen.announce, repo) // past its due time
		if n := outboxSize(t, db); n != 0 {
			t.Errorf("want the outbox empty, have %d entries", n)
		}
		if have := seen.list(); len(have) != 0 {
			t.Errorf("want nothing announced, have %v", have)
		}
	})

	t.Run("an order of a replica that died is announced by another at its next sweep", func(t *testing.T) {
		db, c := newDB(t), testenv.NewClock(T0)
		dead, live, seen := NewStore(t, db, c), NewStore(t, db, c), &announcements{}
		o := NewOrder("u1", T0)
		if err := dead.Create(ctx, o, Entry(o)); err != nil { // then the replica dies
			t.Fatal(err)
		}
		c.Set(T0.Add(Backoff.Min))
		if err := live.Sweep(ctx, seen.announce); err != nil {
			t.Fatal(err)
		}
		if want, have := []string{o.ID + " Pending 1"}, seen.list(); fmt.Sprint(have) != fmt.Sprint(want) {
			t.Errorf("want %v, have %v", want, have)
		}
	})

	t.Run("of ten replicas sweeping at once, one announces each due order", func(t *testing.T) {
		db, c := newDB(t), testenv.NewClock(T0)
		writer := NewStore(t, db, c)
		const n = 30
		for i := range n {
			o := NewOrder(fmt.Sprintf("u%d", i%3), T0)
			if err := writer.Create(ctx, o, Entry(o)); err != nil {
				t.Fatal(err)
			}
		}
		seen := &announcements{}
		for round := 1; round <= 3; round++ {
			c.Set(T0.Add(time.Duration(1<<round-1) * time.Second)) // when each round is due: 1, 3, 7 s
			var wg sync.WaitGroup
			for range 10 {
				r := NewStore(t, db, c)
				wg.Go(func() {
					if err := r.Sweep(ctx, seen.announce); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if have := len(seen.list()); have != round*n {
				t.Fatalf("round %d: want %d announcements in all, one per order and round; have %d", round, round*n, have)
			}
		}
		if size := outboxSize(t, db); size != n {
			t.Errorf("want one entry per order, have %d", size)
		}
	})

	t.Run("an entry whose order never came waits its patience, announced to nobody, then goes", func(t *testing.T) {
		db, c := newDB(t), testenv.NewClock(T0)
		repo, seen := NewStore(t, db, c, orderstore.WithPatience(20*time.Second)), &announcements{}
		o := NewOrder("u1", T0)
		// The entry is written, then the order fails to be.
		if err := NewStore(t, failing{Database: db, collection: "order_changes"}, c).Create(ctx, o, Entry(o)); err == nil {
			t.Fatal("the order was stored")
		}
		sweepUntil(t, c, T0.Add(15*time.Second), seen.announce, repo)
		if n := outboxSize(t, db); n != 1 {
			t.Errorf("within its patience: want its entry kept, have %d entries", n)
		}
		sweepUntil(t, c, T0.Add(40*time.Second), seen.announce, repo)
		if n := outboxSize(t, db); n != 0 {
			t.Errorf("past its patience: want its entry gone, have %d entries", n)
		}
		if have := seen.list(); len(have) != 0 {
			t.Errorf("want nothing announced, have %v", have)
		}
	})

	t.Run("a refund is awaited from the change that starts it, and announced again until done", func(t *testing.T) {
		db, c := newDB(t), testenv.NewClock(T0)
		repo, seen := NewStore(t, db, c), &announcements{}
		o := NewOrder("u1", T0)
		if err := repo.Create(ctx, o, Entry(o)); err != nil {
			t.Fatal(err)
		}
		if _, err := repo.Update(ctx, o.ID, pay); err != nil {
			t.Fatal(err)
		}
		if _, err := repo.Update(ctx, o.ID, cancel); err != nil { // at T0+2s: Refunding
			t.Fatal(err)
		}
		sweepUntil(t, c, T0.Add(4*time.Second), seen.announce, repo)
		if want, have := []string{o.ID + " Refunding 1"}, seen.list(); fmt.Sprint(have) != fmt.Sprint(want) {
			t.Errorf("want %v, have %v", want, have)
		}
		refunded := func(o order.Order) (order.Order, *order.OutboxEntry, error) {
			return o.ApplyRefund(T0.Add(5 * time.Second)), nil, nil
		}
		if _, err := repo.Update(ctx, o.ID, refunded); err != nil {
			t.Fatal(err)
		}
		sweepUntil(t, c, T0.Add(time.Minute), seen.announce, repo)
		if have := seen.list(); len(have) != 1 {
			t.Errorf("refunded, it is announced no more: have %v", have)
		}
		if n := outboxSize(t, db); n != 0 {
			t.Errorf("want the outbox empty, have %d entries", n)
		}
	})

	t.Run("a sweep whose deletes fail announces each order once a round, and its leftovers go once they work", func(t *testing.T) {
		db, c := newDB(t), testenv.NewClock(T0)
		writer, seen := NewStore(t, db, c), &announcements{}
		const n = 5
		for i := range n {
			o := NewOrder("u1", T0.Add(time.Duration(i)*time.Millisecond))
			if err := writer.Create(ctx, o, Entry(o)); err != nil {
				t.Fatal(err)
			}
		}
		stuck := NewStore(t, undeletable{db}, c)
		for round := 1; round <= 3; round++ {
			c.Set(T0.Add(time.Duration(1<<round-1) * time.Second).Add(10 * time.Millisecond)) // 1, 3, 7 s: each round due
			if err := stuck.Sweep(ctx, seen.announce); !errors.Is(err, order.ErrUnavailable) {
				t.Fatalf("round %d: want the failed delete reported, have %v", round, err)
			}
			if have := len(seen.list()); have != round*n {
				t.Fatalf("round %d: want %d announcements in all, one per order and round; have %d", round, round*n, have)
			}
		}
		if err := writer.Sweep(ctx, seen.announce); err != nil {
			t.Fatal(err)
		}
		if size := outboxSize(t, db); size != n {
			t.Errorf("deletes work again: want one entry per order left, have %d", size)
		}
	})

	t.Run("creating orders leaves no goroutine behind", func(t *testing.T) {
		repo := NewStore(t, newDB(t), testenv.NewClock(T0))
		before := storeGoroutines()
		var wg sync.WaitGroup
		for i := range 30 {
			wg.Go(func() {
				o := NewOrder(fmt.Sprintf("u%d", i%3), T0.Add(time.Duration(i)*time.Millisecond))
				if err := repo.Create(ctx, o, Entry(o)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		deadline := time.Now().Add(5 * time.Second)
		for storeGoroutines() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if after := storeGoroutines(); after > before {
			t.Errorf("want %d goroutines as before, have %d", before, after)
		}
	})

	t.Run("an unreachable store is ErrUnavailable to every method", func(t *testing.T) {
		db := newDB(t)
		repo := NewStore(t, db, testenv.NewClock(T0.Add(time.Hour)))
		o := NewOrder("u1", T0)
		if err := repo.Create(ctx, o, Entry(o)); err != nil {
			t.Fatal(err)
		}
		down := NewStore(t, failing{Database: db}, testenv.NewClock(T0.Add(time.Hour)))
		for name, err := range map[string]error{
			"Create":   down.Create(ctx, NewOrder("u1", T0), Entry(o)),
			"Get":      second(down.Get(ctx, o.ID)),
			"Update":   second(down.Update(ctx, o.ID, pay)),
			"List":     third(down.List(ctx, "u1", "", 10)),
			"ClaimKey": second(down.ClaimKey(ctx, order.KeyClaim{UserID: "u1", Key: "k", OrderID: o.ID})),
			"Sweep":    down.Sweep(ctx, (&announcements{}).announce),
		} {
			if !errors.Is(err, order.ErrUnavailable) {
				t.Errorf("%s: want order.ErrUnavailable, have %v", name, err)
			}
		}
	})
}

// sweepUntil moves time on a second at a time, each replica sweeping its
// outbox, until to.
func sweepUntil(t *testing.T, c *testenv.Clock, to time.Time, announce func(context.Context, order.Order, int) error, replicas ...*orderstore.Store) {
	t.Helper()
	for c.Now().Before(to) {
		c.Advance(time.Second)
		for _, r := range replicas {
			if err := r.Sweep(context.Background(), announce); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// outboxSize is how many entries the outbox holds.
func outboxSize(t *testing.T, db docstore.Database) int {
	t.Helper()
	var all []struct {
		Entries []bson.M `bson:"entries"`
	}
	if err := db.Collection("outbox").Due(context.Background(), "due", time.Now().AddDate(100, 0, 0), 1_000_000, &all); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, b := range all {
		n += len(b.Entries)
	}
	return n
}

// undeletable is a database whose outbox deletes nothing: each delete
// fails as a lost connection does.
type undeletable struct{ docstore.Database }

func (u undeletable) Collection(name string) docstore.Collection {
	if name == "outbox" {
		return undeletableCollection{u.Database.Collection(name)}
	}
	return u.Database.Collection(name)
}

type undeletableCollection struct{ docstore.Collection }

func (undeletableCollection) Delete(context.Context, ...any) error { return errDown }

// failing is a database whose collection (every one, if empty) went away:
// each read and write of it fails as a lost connection does.
type failing struct {
	docstore.Database
	collection string
}

func (f failing) Collection(name string) docstore.Collection {
	if f.collection == "" || f.collection == name {
		return downCollection{}
	}
	return f.Database.Collection(name)
}

type downCollection struct{}

var errDown = fmt.Errorf("%w: connection closed", docstore.ErrUnavailable)

func (downCollection) Insert(context.Context, any) error    { return errDown }
func (downCollection) Find(context.Context, any, any) error { return errDown }
func (downCollection) Delete(context.Context, ...any) error { return errDown }
func (downCollection) Due(context.Context, string, time.Time, int, any) error {
	return errDown
}

// asStored is the fields of o as a document stores them, its id aside.
func asStored(o order.Order) bson.D {
	return bson.D{
		{Key: "userId", Value: o.UserID}, {Key: "productId", Value: o.ProductID}, {Key: "productName", Value: o.ProductName},
		{Key: "amountSen", Value: int64(o.Amount)}, {Key: "currency", Value: order.Currency},
		{Key: "orderStatus", Value: string(o.Status)}, {Key: "paymentStatus", Value: string(o.PaymentStatus)},
		{Key: "correlationId", Value: o.CorrelationID}, {Key: "createdAt", Value: o.CreatedAt}, {Key: "updatedAt", Value: o.UpdatedAt},
		{Key: "requestHash", Value: o.RequestHash},
	}
}

func second[T any](_ T, err error) error        { return err }
func third[T, U any](_ T, _ U, err error) error { return err }

// storeGoroutines counts the goroutines running the store's code (its own,
// and the group commits it makes). The others of the process come and go
// with the load: a MongoDB driver keeps goroutines per pooled connection,
// and an in-process server one per connection it serves.
func storeGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "/ordersvc/orderstore.") || strings.Contains(g, "/internal/groupcommit.") {
			count++
		}
	}
	return count
}
