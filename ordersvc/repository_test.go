package ordersvc_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ordersvc"
)

// One suite, every Repository: what the service relies on holds for the
// in-memory one used in fast tests and for MongoDB alike.

func TestMemRepository(t *testing.T) {
	testRepository(t, func(t *testing.T) ordersvc.Repository { return ordersvc.NewMemRepository() })
}

func TestMongoRepositoryStartsOnAnExistingDatabase(t *testing.T) {
	db := testenv.Mongo(t, testenv.FerretDB(t)).Database("orders")
	for range 2 { // a restart finds its indexes in place
		if _, err := ordersvc.NewMongoRepository(context.Background(), db); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMongoRepository(t *testing.T) {
	uri := testenv.FerretDB(t)
	client := testenv.Mongo(t, uri)
	testRepository(t, func(t *testing.T) ordersvc.Repository {
		db := client.Database("orders_" + bson.NewObjectID().Hex())
		repo, err := ordersvc.NewMongoRepository(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		return repo
	})
}

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func newOrder(user string, createdAt time.Time) ordersvc.Order {
	return ordersvc.Order{
		ID: bson.NewObjectID().Hex(), UserID: user, ProductID: "1", ProductName: "Keyboard",
		Amount: 9900, Status: ordersvc.Processing, PaymentStatus: ordersvc.Pending,
		CreatedAt: createdAt, UpdatedAt: createdAt, CorrelationID: "req-1", RequestHash: "h",
	}
}

func testRepository(t *testing.T, newRepo func(*testing.T) ordersvc.Repository) {
	ctx := context.Background()

	t.Run("a created order reads back as it was stored", func(t *testing.T) {
		repo := newRepo(t)
		want := newOrder("u1", t0)
		want.NextPublishAt, want.PublishAttempts = t0.Add(time.Second), 2
		if err := repo.Create(ctx, want); err != nil {
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

	t.Run("an unknown id is ErrNotFound", func(t *testing.T) {
		repo := newRepo(t)
		if _, err := repo.Get(ctx, bson.NewObjectID().Hex()); !errors.Is(err, ordersvc.ErrNotFound) {
			t.Errorf("want ErrNotFound, have %v", err)
		}
	})

	t.Run("an idempotency key is unique per user, not across users", func(t *testing.T) {
		repo := newRepo(t)
		a := newOrder("u1", t0)
		a.IdempotencyKey = "key-1"
		if err := repo.Create(ctx, a); err != nil {
			t.Fatal(err)
		}
		b := newOrder("u1", t0)
		b.IdempotencyKey = "key-1"
		if err := repo.Create(ctx, b); !errors.Is(err, ordersvc.ErrDuplicate) {
			t.Errorf("same user, same key: want ErrDuplicate, have %v", err)
		}
		c := newOrder("u2", t0)
		c.IdempotencyKey = "key-1"
		if err := repo.Create(ctx, c); err != nil {
			t.Errorf("other user, same key: want nil, have %v", err)
		}
		for _, o := range []ordersvc.Order{newOrder("u1", t0), newOrder("u1", t0)} {
			if err := repo.Create(ctx, o); err != nil {
				t.Errorf("orders without a key: want nil, have %v", err)
			}
		}
		have, err := repo.GetByIdempotencyKey(ctx, "u1", "key-1")
		if err != nil || have.ID != a.ID {
			t.Errorf("want order %s, have %s (%v)", a.ID, have.ID, err)
		}
		if _, err := repo.GetByIdempotencyKey(ctx, "u3", "key-1"); !errors.Is(err, ordersvc.ErrNotFound) {
			t.Errorf("unknown key: want ErrNotFound, have %v", err)
		}
	})

	t.Run("list pages through a user's orders newest first", func(t *testing.T) {
		repo := newRepo(t)
		var want []string
		for i := range 7 {
			// Two orders share each millisecond: the id breaks the tie.
			o := newOrder("u1", t0.Add(time.Duration(i/2)*time.Millisecond))
			if err := repo.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
			want = append([]string{o.ID}, want...)
		}
		if err := repo.Create(ctx, newOrder("someone-else", t0)); err != nil {
			t.Fatal(err)
		}
		var have []string
		after := ordersvc.Position{}
		for range 10 {
			page, err := repo.List(ctx, "u1", after, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, o := range page {
				have = append(have, o.ID)
			}
			last := page[len(page)-1]
			after = ordersvc.Position{CreatedAt: last.CreatedAt, ID: last.ID}
		}
		if len(have) != len(want) {
			t.Fatalf("want %d orders, have %d", len(want), len(have))
		}
		for i := range want {
			if have[i] != want[i] {
				t.Fatalf("order %d: want %s, have %s", i, want[i], have[i])
			}
		}
	})

	t.Run("an update applies only from the expected state", func(t *testing.T) {
		repo := newRepo(t)
		o := newOrder("u1", t0)
		o.NextPublishAt = t0
		if err := repo.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		paid := o
		paid.Status, paid.PaymentStatus, paid.PaymentID, paid.NextPublishAt = ordersvc.Success, ordersvc.Paid, "p1", time.Time{}
		paid.CorrelationID = "req-2"
		if err := repo.Update(ctx, paid, o.State()); err != nil {
			t.Fatal(err)
		}
		declined := o
		declined.Status, declined.PaymentStatus = ordersvc.Failed, ordersvc.Declined
		if err := repo.Update(ctx, declined, o.State()); !errors.Is(err, ordersvc.ErrConflict) {
			t.Errorf("stale update: want ErrConflict, have %v", err)
		}
		have, _ := repo.Get(ctx, o.ID)
		if have.State() != paid.State() || have.PaymentID != "p1" || have.CorrelationID != "req-2" || !have.NextPublishAt.IsZero() {
			t.Errorf("want the first update kept, have %+v", have)
		}
		missing := newOrder("u1", t0)
		if err := repo.Update(ctx, missing, missing.State()); !errors.Is(err, ordersvc.ErrNotFound) {
			t.Errorf("unknown order: want ErrNotFound, have %v", err)
		}
	})

	t.Run("due orders are claimed by one rescheduler only", func(t *testing.T) {
		repo := newRepo(t)
		due, later, done := newOrder("u1", t0), newOrder("u1", t0), newOrder("u1", t0)
		due.NextPublishAt = t0
		later.NextPublishAt = t0.Add(time.Hour)
		for _, o := range []ordersvc.Order{due, later, done} {
			if err := repo.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		list, err := repo.Due(ctx, t0.Add(time.Second), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].ID != due.ID {
			t.Fatalf("want only %s due, have %+v", due.ID, list)
		}
		next := t0.Add(2 * time.Second)
		first, err := repo.Reschedule(ctx, due.ID, due.NextPublishAt, next, 1)
		if err != nil || !first {
			t.Fatalf("first claim: want true, have %v (%v)", first, err)
		}
		second, err := repo.Reschedule(ctx, due.ID, due.NextPublishAt, next, 1)
		if err != nil || second {
			t.Errorf("second claim of the same due time: want false, have %v (%v)", second, err)
		}
		have, _ := repo.Get(ctx, due.ID)
		if !have.NextPublishAt.Equal(next) || have.PublishAttempts != 1 {
			t.Errorf("want next publish at %v after 1 attempt, have %v after %d", next, have.NextPublishAt, have.PublishAttempts)
		}
	})
}

func TestMongoRepositoryCleansOutboxEntriesLeftByACrash(t *testing.T) {
	ctx := context.Background()
	db := testenv.Mongo(t, testenv.FerretDB(t)).Database("orders")
	repo, err := ordersvc.NewMongoRepository(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	settled := newOrder("u1", t0)
	settled.Status, settled.PaymentStatus = ordersvc.Success, ordersvc.Paid
	if err := repo.Create(ctx, settled); err != nil {
		t.Fatal(err)
	}
	// A crash between settling these orders (or creating the second) and
	// deleting their outbox entries.
	for _, id := range []string{settled.ID, bson.NewObjectID().Hex()} {
		if _, err := db.Collection("outbox").InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "nextPublishAt", Value: t0}, {Key: "attempts", Value: 0}}); err != nil {
			t.Fatal(err)
		}
	}
	due, err := repo.Due(ctx, t0.Add(time.Second), 10)
	if err != nil || len(due) != 0 {
		t.Fatalf("want nothing due, have %v (%v)", due, err)
	}
	if n, _ := db.Collection("outbox").CountDocuments(ctx, bson.D{}); n != 0 {
		t.Errorf("want the stale entries deleted, have %d left", n)
	}
}

func TestMongoRepositoryLetsARetryCompleteAKeyWhoseRequestDied(t *testing.T) {
	ctx := context.Background()
	db := testenv.Mongo(t, testenv.FerretDB(t)).Database("orders")
	repo, err := ordersvc.NewMongoRepository(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	// A request claimed the key, then died before storing its order.
	orphan := bson.NewObjectID().Hex()
	_, err = db.Collection("idempotency_keys").InsertOne(ctx, bson.D{
		{Key: "_id", Value: "u1/key-1"}, {Key: "orderId", Value: orphan}, {Key: "requestHash", Value: "h"}, {Key: "createdAt", Value: t0},
	})
	if err != nil {
		t.Fatal(err)
	}
	inProgress, err := repo.GetByIdempotencyKey(ctx, "u1", "key-1")
	if !errors.Is(err, ordersvc.ErrInProgress) || inProgress.ID != orphan || inProgress.RequestHash != "h" {
		t.Fatalf("want ErrInProgress naming %s, have %+v (%v)", orphan, inProgress, err)
	}
	retry := newOrder("u1", t0)
	retry.ID, retry.IdempotencyKey = orphan, "key-1"
	if err := repo.Create(ctx, retry); err != nil {
		t.Fatalf("the retry stores the order under the key's id: have %v", err)
	}
	if err := repo.Create(ctx, retry); !errors.Is(err, ordersvc.ErrDuplicate) {
		t.Errorf("a second store of the same order: want ErrDuplicate, have %v", err)
	}
	other := newOrder("u1", t0)
	other.IdempotencyKey = "key-1"
	if err := repo.Create(ctx, other); !errors.Is(err, ordersvc.ErrDuplicate) {
		t.Errorf("another order with the key: want ErrDuplicate, have %v", err)
	}
	have, err := repo.GetByIdempotencyKey(ctx, "u1", "key-1")
	if err != nil || have.ID != orphan {
		t.Errorf("want order %s, have %s (%v)", orphan, have.ID, err)
	}
}

func TestMongoRepositoryKeepsAnEntryWhoseOrderIsAboutToAwait(t *testing.T) {
	ctx := context.Background()
	db := testenv.Mongo(t, testenv.FerretDB(t)).Database("orders")
	repo, err := ordersvc.NewMongoRepository(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	paid := newOrder("u1", t0)
	paid.Status, paid.PaymentStatus = ordersvc.Success, ordersvc.Paid
	if err := repo.Create(ctx, paid); err != nil {
		t.Fatal(err)
	}
	// A cancel wrote the refund's entry; its update of the order is on its way.
	now := time.Now().UTC().Truncate(time.Millisecond)
	_, err = db.Collection("outbox").InsertOne(ctx, bson.D{
		{Key: "_id", Value: paid.ID}, {Key: "awaits", Value: "Refunding"},
		{Key: "nextPublishAt", Value: now}, {Key: "attempts", Value: 0}, {Key: "writtenAt", Value: now},
	})
	if err != nil {
		t.Fatal(err)
	}
	if due, err := repo.Due(ctx, now, 10); err != nil || len(due) != 0 {
		t.Fatalf("want nothing due yet, have %v (%v)", due, err)
	}
	refunding := paid
	refunding.Status, refunding.PaymentStatus, refunding.NextPublishAt = ordersvc.Cancelled, ordersvc.Refunding, now
	if err := repo.Update(ctx, refunding, paid.State()); err != nil {
		t.Fatal(err)
	}
	due, err := repo.Due(ctx, now.Add(time.Minute), 10)
	if err != nil || len(due) != 1 || due[0].ID != paid.ID {
		t.Errorf("want the refunding order due, have %v (%v)", due, err)
	}
}
