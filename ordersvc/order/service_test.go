package order_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/kit/metrics/discard"
	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/objectid"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/ordersvc/orderstore"
)

// recorder is an Events that remembers what was published.
type recorder struct {
	mu        sync.Mutex
	created   []string
	cancelled []string
	fail      bool
}

func (r *recorder) OrderCreated(_ context.Context, o order.Order) error {
	return r.record(&r.created, o)
}

func (r *recorder) OrderCancelled(_ context.Context, o order.Order) error {
	return r.record(&r.cancelled, o)
}

func (r *recorder) record(list *[]string, o order.Order) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("redis down")
	}
	*list = append(*list, o.ID)
	return nil
}

func (r *recorder) setFail(fail bool) {
	r.mu.Lock()
	r.fail = fail
	r.mu.Unlock()
}

func (r *recorder) counts() (created, cancelled int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.created), len(r.cancelled)
}

var backoff = orderstore.Backoff{Min: time.Second, Max: 4 * time.Second}

// replica is one ordersvc process: its store and service, on a database it
// may share with other replicas, with time from c.
type replica struct {
	repo        *orderstore.Store
	svc         *order.Orders
	redeliverer *order.Redeliverer
}

func newReplica(t *testing.T, db docstore.Database, events order.Events, c *testenv.Clock) replica {
	t.Helper()
	r := replica{repo: newStore(t, db, c)}
	r.svc = order.NewService(r.repo, events, log.NewNopLogger(), order.WithClock(c.Now))
	r.redeliverer = order.NewRedeliverer(r.repo, r.svc, time.Millisecond, discard.NewCounter(), log.NewNopLogger())
	return r
}

// sweepUntil moves time on a second at a time, sweeping each replica's
// outbox, until to.
func sweepUntil(t *testing.T, c *testenv.Clock, to time.Time, replicas ...replica) {
	t.Helper()
	for c.Now().Before(to) {
		c.Set(c.Now().Add(time.Second))
		for _, r := range replicas {
			if err := r.redeliverer.RedeliverDue(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
}

var keyboard = order.NewOrder{UserID: "u1", ProductID: "1", ProductName: "Keyboard", Amount: 9900}

func TestCreateOrderStoresAndAnnouncesIt(t *testing.T) {
	ctx := context.Background()
	events := &recorder{}
	r := newReplica(t, docstore.NewMemory(), events, testenv.NewClock(slot0))
	o, replayed, err := r.svc.CreateOrder(ctx, keyboard)
	if err != nil || replayed {
		t.Fatalf("want a new order, have replayed=%v err=%v", replayed, err)
	}
	if o.Status != order.Processing || o.PaymentStatus != order.Pending || o.Version != 0 {
		t.Errorf("want Processing/Pending at version 0, have %s/%s at %d", o.Status, o.PaymentStatus, o.Version)
	}
	if created, _ := events.counts(); created != 1 {
		t.Errorf("want 1 orders.created, have %d", created)
	}
	if stored, err := r.repo.Get(ctx, o.ID); err != nil || stored != o {
		t.Errorf("want the order stored as answered, have %+v (%v)", stored, err)
	}
}

func TestAnOrderWhoseAnnouncementFailedIsAnnouncedAgainUntilPaid(t *testing.T) {
	ctx := context.Background()
	c, events := testenv.NewClock(slot0), &recorder{fail: true}
	r := newReplica(t, docstore.NewMemory(), events, c)
	o, _, err := r.svc.CreateOrder(ctx, keyboard)
	if err != nil {
		t.Fatalf("the order is stored, so the client gets it: have %v", err)
	}
	events.setFail(false)
	sweepUntil(t, c, slot0.Add(backoff.Min), r)
	if created, _ := events.counts(); created != 1 || events.created[0] != o.ID {
		t.Fatalf("want %s announced again once, have %v", o.ID, events.created)
	}
	sweepUntil(t, c, slot0.Add(10*time.Second), r)
	if created, _ := events.counts(); created < 2 {
		t.Fatalf("unanswered, it is announced again: have %d announcements", created)
	}
	if _, err := r.svc.ApplyPayment(ctx, order.PaymentOutcome{OrderID: o.ID, PaymentID: "p1", Paid: true}); err != nil {
		t.Fatal(err)
	}
	before, _ := events.counts()
	sweepUntil(t, c, slot0.Add(60*time.Second), r)
	if after, _ := events.counts(); after != before {
		t.Errorf("a paid order is announced still: %d announcements after payment", after-before)
	}
}

// storedCheck is an order.Events that records, for each announcement,
// whether the announced order could be read from the store at that moment.
type storedCheck struct {
	recorder
	repo     order.Repository
	unstored []string
}

func (e *storedCheck) OrderCreated(ctx context.Context, o order.Order) error {
	if _, err := e.repo.Get(ctx, o.ID); err != nil {
		e.mu.Lock()
		e.unstored = append(e.unstored, o.ID)
		e.mu.Unlock()
	}
	return e.recorder.OrderCreated(ctx, o)
}

// failingCreate is a repository whose orders cannot be stored.
type failingCreate struct{ order.Repository }

func (failingCreate) Create(context.Context, order.Order, order.OutboxEntry) error {
	return order.ErrUnavailable
}

// An order is announced only once it is stored: paymentsvc may answer at
// once, and an answer about an order not stored yet would be lost.
func TestAnOrderIsAnnouncedOnlyOnceStored(t *testing.T) {
	ctx := context.Background()
	db, c := docstore.NewMemory(), testenv.NewClock(slot0)
	repo := newStore(t, db, c)
	events := &storedCheck{repo: repo}
	svc := order.NewService(repo, events, log.NewNopLogger(), order.WithClock(c.Now))
	if _, _, err := svc.CreateOrder(ctx, keyboard); err != nil {
		t.Fatal(err)
	}
	if created, _ := events.counts(); created != 1 || len(events.unstored) != 0 {
		t.Errorf("want one announcement of a stored order, have %d of which unstored %v", created, events.unstored)
	}

	failing := &recorder{}
	svc = order.NewService(failingCreate{repo}, failing, log.NewNopLogger(), order.WithClock(c.Now))
	if _, _, err := svc.CreateOrder(ctx, keyboard); !errors.Is(err, order.ErrUnavailable) {
		t.Fatalf("want ErrUnavailable, have %v", err)
	}
	if created, _ := failing.counts(); created != 0 {
		t.Errorf("an order that was not stored was announced %d times", created)
	}
}

// Once paymentsvc answered, the order is announced no more, however long
// the outbox is swept.
func TestAnAnsweredOrderIsAnnouncedNoMore(t *testing.T) {
	ctx := context.Background()
	c, events := testenv.NewClock(slot0), &recorder{}
	r := newReplica(t, docstore.NewMemory(), events, c)
	o, _, err := r.svc.CreateOrder(ctx, keyboard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.ApplyPayment(ctx, order.PaymentOutcome{OrderID: o.ID, PaymentID: "p1", Paid: true}); err != nil {
		t.Fatal(err)
	}
	sweepUntil(t, c, slot0.Add(2*time.Minute), r)
	if created, _ := events.counts(); created != 1 {
		t.Errorf("want the one announcement of its creation, have %d", created)
	}
}

func TestAnOrderOfAReplicaThatDiedIsAnnouncedByAnother(t *testing.T) {
	ctx := context.Background()
	db, c := docstore.NewMemory(), testenv.NewClock(slot0)
	deadEvents, liveEvents := &recorder{fail: true}, &recorder{}
	dead := newReplica(t, db, deadEvents, c)
	live := newReplica(t, db, liveEvents, c)
	o, _, err := dead.svc.CreateOrder(ctx, keyboard) // announced to nobody, then the replica dies
	if err != nil {
		t.Fatal(err)
	}
	sweepUntil(t, c, slot0.Add(backoff.Min), live) // its first sweep after the entry came due
	if created, _ := liveEvents.counts(); created != 1 || liveEvents.created[0] != o.ID {
		t.Errorf("want %s announced by the live replica, have %v", o.ID, liveEvents.created)
	}
	sweepUntil(t, c, slot0.Add(backoff.Min+backoff.Delay(1)), live)
	if created, _ := liveEvents.counts(); created != 2 {
		t.Errorf("unanswered, it is announced again: want 2 announcements, have %v", liveEvents.created)
	}
}

func TestIdempotencyKey(t *testing.T) {
	ctx := context.Background()
	r := newReplica(t, docstore.NewMemory(), &recorder{}, testenv.NewClock(slot0))
	n := keyboard
	n.IdempotencyKey = "retry-1"
	first, _, err := r.svc.CreateOrder(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.ApplyPayment(ctx, order.PaymentOutcome{OrderID: first.ID, PaymentID: "p1", Paid: true}); err != nil {
		t.Fatal(err)
	}

	again, replayed, err := r.svc.CreateOrder(ctx, n)
	if err != nil || !replayed || again != first {
		t.Errorf("same key, same request: want order %+v as created, replayed; have %+v replayed=%v err=%v", first, again, replayed, err)
	}

	changed := n
	changed.Amount = 100
	if _, _, err := r.svc.CreateOrder(ctx, changed); !errors.Is(err, order.ErrIdempotencyKeyReused) {
		t.Errorf("same key, other request: want ErrIdempotencyKeyReused, have %v", err)
	}

	other := n
	other.UserID = "u2"
	o, replayed, err := r.svc.CreateOrder(ctx, other)
	if err != nil || replayed || o.ID == first.ID {
		t.Errorf("same key, other user: want a new order, have %s replayed=%v err=%v", o.ID, replayed, err)
	}
}

// slowClaim is a repository whose key claims take a second by the clock.
type slowClaim struct {
	order.Repository
	c      *testenv.Clock
	claims []order.KeyClaim
}

func (r *slowClaim) ClaimKey(ctx context.Context, k order.KeyClaim) (order.KeyClaim, error) {
	r.claims = append(r.claims, k)
	r.c.Advance(time.Second)
	return r.Repository.ClaimKey(ctx, k)
}

// An order is created when its first document is written: the claim of its
// Idempotency-Key comes before, at its own time.
func TestAnOrderIsCreatedAfterItsKeyIsClaimed(t *testing.T) {
	ctx := context.Background()
	db, c := docstore.NewMemory(), testenv.NewClock(slot0)
	repo := &slowClaim{Repository: newStore(t, db, c), c: c}
	svc := order.NewService(repo, &recorder{}, log.NewNopLogger(), order.WithClock(c.Now))
	n := keyboard
	n.IdempotencyKey = "k1"
	o, _, err := svc.CreateOrder(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := svc.GetOrder(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := slot0.Add(time.Second)
	if !o.CreatedAt.Equal(want) || !o.UpdatedAt.Equal(want) || !stored.CreatedAt.Equal(want) {
		t.Errorf("want the order created at %v, once its key was claimed; have %v answered, %v stored", want, o.CreatedAt, stored.CreatedAt)
	}
	if len(repo.claims) != 1 || !repo.claims[0].CreatedAt.Equal(slot0) {
		t.Errorf("want the key claimed at %v, have %+v", slot0, repo.claims)
	}
}

// A request claimed its key and died before storing the order: its retry
// stores the order under the claimed id, listed once, announced.
func TestARetryCompletesAnOrderWhoseRequestDied(t *testing.T) {
	ctx := context.Background()
	db, events := docstore.NewMemory(), &recorder{}
	r := newReplica(t, db, events, testenv.NewClock(slot0))
	n := keyboard
	n.IdempotencyKey = "died"
	orphan := order.Order{ID: objectid.New()}
	if _, err := r.repo.ClaimKey(ctx, order.KeyClaim{UserID: "u1", Key: "died", OrderID: orphan.ID, RequestHash: order.RequestHash(n), CreatedAt: slot0}); err != nil {
		t.Fatal(err)
	}
	o, replayed, err := r.svc.CreateOrder(ctx, n)
	if err != nil || replayed || o.ID != orphan.ID {
		t.Fatalf("want order %s stored by the retry, have %s replayed=%v err=%v", orphan.ID, o.ID, replayed, err)
	}
	if created, _ := events.counts(); created != 1 {
		t.Errorf("want the order announced, have %d announcements", created)
	}
	again, replayed, err := r.svc.CreateOrder(ctx, n)
	if err != nil || !replayed || again.ID != o.ID {
		t.Errorf("the next retry replays it: have %s replayed=%v err=%v", again.ID, replayed, err)
	}
	if page, _ := r.svc.ListOrders(ctx, "u1", "", 0); len(page.Orders) != 1 {
		t.Errorf("want 1 order listed, have %d", len(page.Orders))
	}
}

func TestPaymentEventsAreIdempotent(t *testing.T) {
	ctx := context.Background()
	r := newReplica(t, docstore.NewMemory(), &recorder{}, testenv.NewClock(slot0))
	o, _, _ := r.svc.CreateOrder(ctx, keyboard)

	paid := order.PaymentOutcome{OrderID: o.ID, PaymentID: "p1", Paid: true}
	for range 3 {
		if _, err := r.svc.ApplyPayment(ctx, paid); err != nil {
			t.Fatal(err)
		}
	}
	stale := order.PaymentOutcome{OrderID: o.ID, PaymentID: "p2", Paid: false, Reason: "late"}
	if _, err := r.svc.ApplyPayment(ctx, stale); err != nil {
		t.Fatal(err)
	}
	have, _ := r.repo.Get(ctx, o.ID)
	if have.Status != order.Success || have.PaymentStatus != order.Paid || have.PaymentID != "p1" || have.Version != 1 {
		t.Errorf("want Success/Paid by p1 at version 1, have %s/%s by %s at %d", have.Status, have.PaymentStatus, have.PaymentID, have.Version)
	}
}

func TestCancelledPendingOrderPaidLaterIsRefunded(t *testing.T) {
	ctx := context.Background()
	c, events := testenv.NewClock(slot0), &recorder{}
	r := newReplica(t, docstore.NewMemory(), events, c)
	o, _, _ := r.svc.CreateOrder(ctx, keyboard)
	if _, err := r.svc.SetStatus(ctx, o.ID, order.Cancelled); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.ApplyPayment(ctx, order.PaymentOutcome{OrderID: o.ID, PaymentID: "p1", Paid: true}); err != nil {
		t.Fatal(err)
	}
	have, _ := r.repo.Get(ctx, o.ID)
	if have.Status != order.Cancelled || have.PaymentStatus != order.Refunding {
		t.Errorf("want Cancelled/Refunding, have %s/%s", have.Status, have.PaymentStatus)
	}
	if _, cancelled := events.counts(); cancelled != 1 {
		t.Errorf("want 1 orders.cancelled asking for the refund, have %d", cancelled)
	}
	// Unanswered, the refund is asked for again.
	sweepUntil(t, c, slot0.Add(5*time.Second), r)
	if _, cancelled := events.counts(); cancelled < 2 {
		t.Errorf("want the refund asked for again, have %d orders.cancelled", cancelled)
	}
	if _, err := r.svc.ApplyRefund(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	have, _ = r.repo.Get(ctx, o.ID)
	if have.PaymentStatus != order.Refunded {
		t.Errorf("want Refunded, have %s", have.PaymentStatus)
	}
	_, before := events.counts()
	sweepUntil(t, c, slot0.Add(60*time.Second), r)
	if _, after := events.counts(); after != before {
		t.Errorf("a refunded order is still asked a refund for: %d times", after-before)
	}
}

// A cancel on one replica and the payment's outcome on another, at once:
// whichever comes second starts from what the first did, so the cancel the
// client was told of holds, and a paid order is refunded.
func TestACancelRacingThePaymentOnAnotherReplicaHolds(t *testing.T) {
	ctx := context.Background()
	for round := range 20 {
		db, c := docstore.NewMemory(), testenv.NewClock(slot0)
		a := newReplica(t, db, &recorder{}, c)
		b := newReplica(t, db, &recorder{}, c)
		o, _, err := a.svc.CreateOrder(ctx, keyboard)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.repo.Get(ctx, o.ID); err != nil { // b knows the order, as it was
			t.Fatal(err)
		}
		var cancel order.Order
		var wg sync.WaitGroup
		wg.Go(func() {
			var err error
			if cancel, err = a.svc.SetStatus(ctx, o.ID, order.Cancelled); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if _, err := b.svc.ApplyPayment(ctx, order.PaymentOutcome{OrderID: o.ID, PaymentID: "p1", Paid: true}); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
		have, _ := newStore(t, db, c).Get(ctx, o.ID)
		if cancel.Status != order.Cancelled || have.Status != order.Cancelled || have.PaymentStatus != order.Refunding {
			t.Fatalf("round %d: the cancel answered %s/%s; want the order Cancelled/Refunding, have %s/%s",
				round, cancel.Status, cancel.PaymentStatus, have.Status, have.PaymentStatus)
		}
	}
}

func TestConcurrentRequestsWithOneKeyMakeOneOrderAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	db, c := docstore.NewMemory(), testenv.NewClock(time.Now().UTC())
	replicas := []replica{newReplica(t, db, &recorder{}, c), newReplica(t, db, &recorder{}, c)}
	n := keyboard
	n.IdempotencyKey = "double-click"
	ids := make(chan string, 8)
	var wg sync.WaitGroup
	for i := range cap(ids) {
		wg.Go(func() {
			o, _, err := replicas[i%2].svc.CreateOrder(ctx, n)
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
	page, err := replicas[0].svc.ListOrders(ctx, n.UserID, "", 0)
	if err != nil || len(page.Orders) != 1 {
		t.Errorf("want 1 order, have %d (%v)", len(page.Orders), err)
	}
}

// slot0 is when the tests' orders are made.
var slot0 = time.Unix(1_800_000_000, 0).UTC()

func newStore(t *testing.T, db docstore.Database, c *testenv.Clock) *orderstore.Store {
	t.Helper()
	s, err := orderstore.NewStore(context.Background(), db, backoff, log.NewNopLogger(), orderstore.WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// keyed is a repository whose Idempotency-Key claims name an order that
// is stored, to Create, and not found, to Get: a store not itself.
type keyed struct {
	order.Repository
	claimed string
}

func (k keyed) ClaimKey(_ context.Context, c order.KeyClaim) (order.KeyClaim, error) {
	c.OrderID = k.claimed
	return c, nil
}
func (keyed) Create(context.Context, order.Order, order.OutboxEntry) error { return order.ErrDuplicate }
func (keyed) Get(context.Context, string) (order.Order, error) {
	return order.Order{}, order.ErrNotFound
}

// A POST that cannot settle what its key names is a store to retry, never
// "the order changed while it was being updated", which a POST cannot meet.
func TestAKeyWhoseOrderCannotBeSettledIsAStoreToRetry(t *testing.T) {
	svc := order.NewService(keyed{claimed: objectid.New()}, &recorder{}, log.NewNopLogger())
	n := keyboard
	n.IdempotencyKey = "k"
	_, _, err := svc.CreateOrder(context.Background(), n)
	if !errors.Is(err, order.ErrUnavailable) || errors.Is(err, order.ErrConflict) {
		t.Errorf("want ErrUnavailable, not ErrConflict; have %v", err)
	}
}
