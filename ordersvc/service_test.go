package ordersvc_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/kit/metrics/discard"
	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ordersvc"
)

// recorder is an Events that remembers what was published.
type recorder struct {
	mu        sync.Mutex
	created   []string
	cancelled []string
	fail      bool
}

func (r *recorder) OrderCreated(_ context.Context, o ordersvc.Order) (int64, error) {
	return r.record(&r.created, o)
}

func (r *recorder) OrderCancelled(_ context.Context, o ordersvc.Order) (int64, error) {
	return r.record(&r.cancelled, o)
}

func (r *recorder) record(list *[]string, o ordersvc.Order) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return 0, errors.New("redis down")
	}
	*list = append(*list, o.ID)
	return 1, nil
}

func (r *recorder) counts() (created, cancelled int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.created), len(r.cancelled)
}

var backoff = ordersvc.Backoff{Min: 10 * time.Millisecond, Max: 40 * time.Millisecond}

func newService(repo ordersvc.Repository, events ordersvc.Events) *ordersvc.OrderService {
	return ordersvc.NewService(repo, events, backoff, log.NewNopLogger())
}

var keyboard = ordersvc.NewOrder{UserID: "u1", ProductID: "1", ProductName: "Keyboard", Amount: 9900}

func TestCreateOrderStoresBeforeItPublishes(t *testing.T) {
	ctx := context.Background()
	repo, events := ordersvc.NewMemRepository(), &recorder{}
	svc := newService(repo, events)
	o, replayed, err := svc.CreateOrder(ctx, keyboard)
	if err != nil || replayed {
		t.Fatalf("want a new order, have replayed=%v err=%v", replayed, err)
	}
	if o.Status != ordersvc.Processing || o.PaymentStatus != ordersvc.Pending {
		t.Errorf("want Processing/Pending, have %s/%s", o.Status, o.PaymentStatus)
	}
	if created, _ := events.counts(); created != 1 {
		t.Errorf("want 1 orders.created, have %d", created)
	}
	stored, err := repo.Get(ctx, o.ID)
	if err != nil || stored.NextPublishAt.IsZero() {
		t.Errorf("want the stored order awaiting its payment with a redelivery time, have %+v (%v)", stored, err)
	}
}

func TestCreateOrderSucceedsWhenPublishingFails(t *testing.T) {
	ctx := context.Background()
	repo, events := ordersvc.NewMemRepository(), &recorder{fail: true}
	svc := newService(repo, events)
	o, _, err := svc.CreateOrder(ctx, keyboard)
	if err != nil {
		t.Fatalf("the order is stored, so the client gets it: have %v", err)
	}
	events.mu.Lock()
	events.fail = false
	events.mu.Unlock()
	r := ordersvc.NewRedeliverer(svc, time.Millisecond, discard.NewCounter(), log.NewNopLogger())
	deadline := time.Now().Add(2 * time.Second)
	for created, _ := events.counts(); created == 0; created, _ = events.counts() {
		if time.Now().After(deadline) {
			t.Fatal("the redeliverer never published the order")
		}
		if err := r.RedeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if events.created[0] != o.ID {
		t.Errorf("want %s redelivered, have %s", o.ID, events.created[0])
	}
}

func TestIdempotencyKey(t *testing.T) {
	ctx := context.Background()
	svc := newService(ordersvc.NewMemRepository(), &recorder{})
	n := keyboard
	n.IdempotencyKey = "retry-1"
	first, _, err := svc.CreateOrder(ctx, n)
	if err != nil {
		t.Fatal(err)
	}

	again, replayed, err := svc.CreateOrder(ctx, n)
	if err != nil || !replayed || again.ID != first.ID {
		t.Errorf("same key, same request: want order %s replayed, have %s replayed=%v err=%v", first.ID, again.ID, replayed, err)
	}

	changed := n
	changed.Amount = 100
	if _, _, err := svc.CreateOrder(ctx, changed); !errors.Is(err, ordersvc.ErrIdempotencyKeyReused) {
		t.Errorf("same key, other request: want ErrIdempotencyKeyReused, have %v", err)
	}

	other := n
	other.UserID = "u2"
	o, replayed, err := svc.CreateOrder(ctx, other)
	if err != nil || replayed || o.ID == first.ID {
		t.Errorf("same key, other user: want a new order, have %s replayed=%v err=%v", o.ID, replayed, err)
	}
}

func TestPaymentEventsAreIdempotent(t *testing.T) {
	ctx := context.Background()
	repo, events := ordersvc.NewMemRepository(), &recorder{}
	svc := newService(repo, events)
	o, _, _ := svc.CreateOrder(ctx, keyboard)

	paid := ordersvc.PaymentOutcome{OrderID: o.ID, PaymentID: "p1", Paid: true}
	for range 3 {
		if err := svc.ApplyPayment(ctx, paid); err != nil {
			t.Fatal(err)
		}
	}
	stale := ordersvc.PaymentOutcome{OrderID: o.ID, PaymentID: "p2", Paid: false, Reason: "late"}
	if err := svc.ApplyPayment(ctx, stale); err != nil {
		t.Fatal(err)
	}
	have, _ := repo.Get(ctx, o.ID)
	if have.Status != ordersvc.Success || have.PaymentStatus != ordersvc.Paid || have.PaymentID != "p1" {
		t.Errorf("want Success/Paid by p1, have %s/%s by %s", have.Status, have.PaymentStatus, have.PaymentID)
	}
	if !have.NextPublishAt.IsZero() {
		t.Error("a paid order is still scheduled for redelivery")
	}
}

func TestCancelledPendingOrderPaidLaterIsRefunded(t *testing.T) {
	ctx := context.Background()
	repo, events := ordersvc.NewMemRepository(), &recorder{}
	svc := newService(repo, events)
	o, _, _ := svc.CreateOrder(ctx, keyboard)
	if _, err := svc.SetStatus(ctx, o.ID, ordersvc.Cancelled); err != nil {
		t.Fatal(err)
	}
	if err := svc.ApplyPayment(ctx, ordersvc.PaymentOutcome{OrderID: o.ID, PaymentID: "p1", Paid: true}); err != nil {
		t.Fatal(err)
	}
	have, _ := repo.Get(ctx, o.ID)
	if have.Status != ordersvc.Cancelled || have.PaymentStatus != ordersvc.Refunding {
		t.Errorf("want Cancelled/Refunding, have %s/%s", have.Status, have.PaymentStatus)
	}
	if _, cancelled := events.counts(); cancelled != 1 {
		t.Errorf("want 1 orders.cancelled asking for the refund, have %d", cancelled)
	}
	if err := svc.ApplyRefund(ctx, o.ID, ""); err != nil {
		t.Fatal(err)
	}
	have, _ = repo.Get(ctx, o.ID)
	if have.PaymentStatus != ordersvc.Refunded || !have.NextPublishAt.IsZero() {
		t.Errorf("want Refunded and nothing awaited, have %s, next publish %v", have.PaymentStatus, have.NextPublishAt)
	}
}

func TestTwoReplicasRedeliverADueOrderOnce(t *testing.T) {
	ctx := context.Background()
	repo, events := ordersvc.NewMemRepository(), &recorder{}
	a, b := newService(repo, events), newService(repo, events)
	o, _, _ := a.CreateOrder(ctx, keyboard)
	stored, _ := repo.Get(ctx, o.ID)

	var wg sync.WaitGroup
	for _, svc := range []*ordersvc.OrderService{a, b} {
		wg.Go(func() {
			if _, err := svc.Redeliver(ctx, stored); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if created, _ := events.counts(); created != 2 { // the first publish and one redelivery
		t.Errorf("want 2 orders.created, have %d", created)
	}
	have, _ := repo.Get(ctx, o.ID)
	if have.PublishAttempts != 1 {
		t.Errorf("want 1 redelivery attempt recorded, have %d", have.PublishAttempts)
	}
}

func TestConcurrentRequestsWithOneKeyMakeOneOrderAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	repo, err := ordersvc.NewMongoRepository(ctx, testenv.Mongo(t, testenv.FerretDB(t)).Database("orders"))
	if err != nil {
		t.Fatal(err)
	}
	replicas := []*ordersvc.OrderService{newService(repo, &recorder{}), newService(repo, &recorder{})}
	n := keyboard
	n.IdempotencyKey = "double-click"
	ids := make(chan string, 8)
	var wg sync.WaitGroup
	for i := range cap(ids) {
		wg.Go(func() {
			o, _, err := replicas[i%2].CreateOrder(ctx, n)
			if err != nil {
				t.Error(err)
			}
			ids <- o.ID
		})
	}
	wg.Wait()
	close(ids)
	first := <-ids
	for id := range ids {
		if id != first {
			t.Errorf("want every request answered with order %s, have %s", first, id)
		}
	}
	page, err := replicas[0].ListOrders(ctx, n.UserID, "", 0)
	if err != nil || len(page.Orders) != 1 {
		t.Errorf("want 1 order, have %d (%v)", len(page.Orders), err)
	}
}
