package paymentsvc_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/orderflow/orderflow/internal/docstore/mongostore"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/paymentsvc"
)

// countingCharger is the demo rule, counting its calls.
type countingCharger struct {
	paymentsvc.DemoCharger
	mu      sync.Mutex
	charges int
	refunds int
	hold    chan struct{} // when set, a charge waits for it to close
}

func (c *countingCharger) Charge(ctx context.Context, r paymentsvc.ChargeRequest) (bool, string, error) {
	c.mu.Lock()
	c.charges++
	c.mu.Unlock()
	if c.hold != nil {
		<-c.hold
	}
	return c.DemoCharger.Charge(ctx, r)
}

func (c *countingCharger) Refund(context.Context, paymentsvc.Payment) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refunds++
	return nil
}

// outbox is an Events that keeps what was published.
type outbox struct {
	mu        sync.Mutex
	processed []paymentsvc.Payment
	refunded  []paymentsvc.Payment
}

func (o *outbox) PaymentProcessed(_ context.Context, p paymentsvc.Payment) (int64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.processed = append(o.processed, p)
	return 1, nil
}

func (o *outbox) PaymentRefunded(_ context.Context, p paymentsvc.Payment) (int64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refunded = append(o.refunded, p)
	return 1, nil
}

// newRepo returns a Store on a database of its own in the embedded
// FerretDB; the behaviours tested here hold on MongoDB's semantics, which
// FerretDB shares for inserts and lookups by _id.
func newRepo(t *testing.T) *paymentsvc.Store {
	t.Helper()
	client := testenv.Mongo(t, testenv.FerretDB(t))
	repo, err := paymentsvc.NewStore(context.Background(), mongostore.New(client.Database("payments")))
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

func newService(repo paymentsvc.Repository, charger paymentsvc.Charger, events paymentsvc.Events, replica string) *paymentsvc.Service {
	return paymentsvc.NewService(repo, charger, events, time.Minute, replica, log.NewNopLogger())
}

func request(product string) paymentsvc.ChargeRequest {
	return paymentsvc.ChargeRequest{OrderID: bson.NewObjectID().Hex(), UserID: "u1", ProductID: product, Amount: 9900, Currency: "MYR"}
}

func TestTheDemoRulePaysProductOneOnly(t *testing.T) {
	for product, want := range map[string]bool{"1": true, "2": false, "10": false, "one": false} {
		paid, reason, err := paymentsvc.DemoCharger{}.Charge(context.Background(), request(product))
		if err != nil || paid != want || (!paid && reason == "") {
			t.Errorf("product %q: want paid=%v with a reason when declined, have %v %q %v", product, want, paid, reason, err)
		}
	}
}

func TestAnOrderIsChargedOnceHoweverOftenItIsAskedFor(t *testing.T) {
	charger, events := &countingCharger{}, &outbox{}
	svc := newService(newRepo(t), charger, events, "r1")
	r := request("1")
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if err := svc.Charge(context.Background(), r); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if charger.charges != 1 {
		t.Errorf("want 1 charge, have %d", charger.charges)
	}
	if len(events.processed) != 5 {
		t.Fatalf("want the outcome published for every request, have %d", len(events.processed))
	}
	for _, p := range events.processed {
		if p.Status != paymentsvc.Paid || p.ID != events.processed[0].ID {
			t.Errorf("want one Paid payment, have %+v", p)
		}
	}
}

func TestAnAttemptLeftByACrashIsTakenOverOnceItsLeaseRunsOut(t *testing.T) {
	ctx := context.Background()
	repo := newRepo(t)
	r := request("1")
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	crashed := paymentsvc.Attempt{OrderID: r.OrderID, Work: paymentsvc.ChargeWork, N: 1, Replica: "dead", At: t0.Add(-time.Minute), LeaseUntil: t0.Add(-time.Second)}
	if err := repo.Claim(ctx, crashed); err != nil {
		t.Fatal(err)
	}
	charger, events := &countingCharger{}, &outbox{}
	if err := newService(repo, charger, events, "r2").Charge(ctx, r); err != nil {
		t.Fatal(err)
	}
	have, err := repo.Payment(ctx, r.OrderID)
	if err != nil || have.Status != paymentsvc.Paid || charger.charges != 1 {
		t.Errorf("want the order Paid after 1 charge, have %+v after %d (%v)", have, charger.charges, err)
	}
	if a, err := repo.Attempt(ctx, r.OrderID, paymentsvc.ChargeWork, 2); err != nil || a.Replica != "r2" {
		t.Errorf("want attempt 2 by r2, have %+v (%v)", a, err)
	}
}

// flakyStore loses the first records it is asked for, as a store that went
// away for a moment.
type flakyStore struct {
	*paymentsvc.Store
	mu    sync.Mutex
	fails int
}

func (f *flakyStore) Record(ctx context.Context, p paymentsvc.Payment) error {
	f.mu.Lock()
	fail := f.fails > 0
	f.fails--
	f.mu.Unlock()
	if fail {
		return fmt.Errorf("%w: connection refused", paymentsvc.ErrUnavailable)
	}
	return f.Store.Record(ctx, p)
}

func TestAnAnswerIsRecordedOnceTheStoreIsBackWithoutAskingTheProviderAgain(t *testing.T) {
	ctx := context.Background()
	repo := &flakyStore{Store: newRepo(t), fails: 3}
	charger, events := &countingCharger{}, &outbox{}
	r := request("1")
	if err := newService(repo, charger, events, "r1").Charge(ctx, r); err != nil {
		t.Fatal(err)
	}
	if have, err := repo.Payment(ctx, r.OrderID); err != nil || have.Status != paymentsvc.Paid || charger.charges != 1 {
		t.Errorf("want Paid after 1 charge, have %+v after %d (%v)", have, charger.charges, err)
	}
}

func TestTwoReplicasAskedAtOnceChargeOnce(t *testing.T) {
	ctx := context.Background()
	repo := newRepo(t)
	charger := &countingCharger{}
	replicas := []*paymentsvc.Service{newService(repo, charger, &outbox{}, "r1"), newService(repo, charger, &outbox{}, "r2")}
	for range 10 {
		r := request("1")
		var wg sync.WaitGroup
		for _, svc := range replicas {
			wg.Go(func() {
				if err := svc.Charge(ctx, r); err != nil && !errors.Is(err, paymentsvc.ErrBusy) {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	if charger.charges != 10 {
		t.Errorf("want 10 charges for 10 orders, have %d", charger.charges)
	}
}

func TestRefundsHappenOnceAndOnlyForPaidPayments(t *testing.T) {
	events := &outbox{}
	svc := newService(newRepo(t), paymentsvc.DemoCharger{}, events, "r1")
	ctx := context.Background()
	paid, declined := request("1"), request("2")
	for _, r := range []paymentsvc.ChargeRequest{paid, declined} {
		if err := svc.Charge(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := svc.Refund(ctx, paid.OrderID, ""); err != nil {
			t.Fatal(err)
		}
	}
	if len(events.refunded) != 2 {
		t.Fatalf("want the refund published twice (once done, once repeated), have %+v", events.refunded)
	}
	for _, p := range events.refunded {
		if p.Status != paymentsvc.Refunded || p.OrderID != paid.OrderID || p.ID != events.processed[0].ID {
			t.Errorf("want the order's payment %s Refunded, have %+v", events.processed[0].ID, p)
		}
	}
	if err := svc.Refund(ctx, declined.OrderID, ""); err == nil {
		t.Error("a declined payment was refunded")
	}
}

func TestAReplicaDoesNotChargeWhileAnotherIsCharging(t *testing.T) {
	repo := newRepo(t)
	slow := &countingCharger{hold: make(chan struct{})}
	first := newService(repo, slow, &outbox{}, "r1")
	other := &countingCharger{}
	second := newService(repo, other, &outbox{}, "r2")
	r := request("1")

	done := make(chan error)
	go func() { done <- first.Charge(context.Background(), r) }()
	testenv.Eventually(t, 5*time.Second, "the first replica never started charging", func() bool {
		slow.mu.Lock()
		defer slow.mu.Unlock()
		return slow.charges == 1
	})
	// A redelivery reaches the second replica while the first is charging.
	if err := second.Charge(context.Background(), r); !errors.Is(err, paymentsvc.ErrBusy) {
		t.Errorf("want ErrBusy, have %v", err)
	}
	close(slow.hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if other.charges != 0 {
		t.Errorf("the second replica charged %d times", other.charges)
	}
	if err := second.Charge(context.Background(), r); err != nil {
		t.Errorf("once recorded, the outcome is republished by any replica: %v", err)
	}
}

func TestARefundIsMadeOnceAcrossRepeatedRequests(t *testing.T) {
	charger := &countingCharger{}
	svc := newService(newRepo(t), charger, &outbox{}, "r1")
	r := request("1")
	if err := svc.Charge(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := svc.Refund(context.Background(), r.OrderID, ""); err != nil {
			t.Fatal(err)
		}
	}
	if charger.refunds != 1 {
		t.Errorf("want 1 refund, have %d", charger.refunds)
	}
}
