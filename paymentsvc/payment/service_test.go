package payment_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/paymentsvc/payment"
	"github.com/orderflow/orderflow/paymentsvc/paymentstore"
)

func TestTheDemoRulePaysProductOneOnly(t *testing.T) {
	for product, want := range map[string]bool{"1": true, "2": false, "10": false, "one": false} {
		paid, reason, err := payment.DemoCharger{}.Charge(context.Background(), request(product))
		if err != nil || paid != want || (!paid && reason == "") {
			t.Errorf("product %q: want paid=%v with a reason when declined, have %v %q %v", product, want, paid, reason, err)
		}
	}
}

func TestAPaymentIsRecordedWithTheOutcomeAndTheTimeOfTheClock(t *testing.T) {
	ctx := context.Background()
	repo := newMemoryRepo(t)
	at := time.Date(2026, 3, 1, 10, 0, 0, 123_456_789, time.FixedZone("MYT", 8*3600))
	events := &outbox{}
	svc := newService(repo, payment.DemoCharger{}, events, "r1", payment.WithClock(testenv.NewClock(at).Now))
	paid, declined := request("1"), request("2")
	for _, r := range []payment.ChargeRequest{paid, declined} {
		if _, err := svc.Charge(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	wantAt := at.UTC().Truncate(time.Millisecond)
	for _, c := range []struct {
		r      payment.ChargeRequest
		status payment.Status
	}{{paid, payment.Paid}, {declined, payment.Declined}} {
		have, err := repo.Payment(ctx, c.r.OrderID)
		if err != nil {
			t.Fatal(err)
		}
		if have.Status != c.status || have.Amount != c.r.Amount || have.Currency != c.r.Currency ||
			have.UserID != c.r.UserID || have.ProductID != c.r.ProductID || have.CorrelationID != c.r.CorrelationID ||
			!have.CreatedAt.Equal(wantAt) || len(have.ID) != 24 || (c.status == payment.Declined) == (have.Reason == "") {
			t.Errorf("want %s recorded at %v for %+v, have %+v", c.status, wantAt, c.r, have)
		}
	}
	if len(events.processed) != 2 || events.processed[0].Status != payment.Paid || events.processed[1].Status != payment.Declined {
		t.Errorf("want Paid then Declined published, have %+v", events.processed)
	}
}

func TestTheClockDecidesWhenTheLeaseOfACrashedAttemptRunsOut(t *testing.T) {
	ctx := context.Background()
	repo := newMemoryRepo(t)
	r := request("1")
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	crashed := payment.Attempt{OrderID: r.OrderID, Work: payment.ChargeWork, N: 1, Replica: "dead", At: t0, LeaseUntil: t0.Add(lease)}
	if err := repo.Claim(ctx, crashed); err != nil {
		t.Fatal(err)
	}
	clock := testenv.NewClock(t0.Add(lease / 2))
	charger, events := &countingCharger{}, &outbox{}
	svc := newService(repo, charger, events, "r2", payment.WithClock(clock.Now))

	if _, err := svc.Charge(ctx, r); !errors.Is(err, payment.ErrBusy) {
		t.Fatalf("within the lease: want ErrBusy, have %v", err)
	}
	if charges, _ := charger.counts(); charges != 0 {
		t.Fatalf("within the lease: want no charge, have %d", charges)
	}

	clock.Advance(lease/2 + time.Millisecond) // just past the lease
	if _, err := svc.Charge(ctx, r); err != nil {
		t.Fatalf("past the lease: %v", err)
	}
	have, err := repo.Payment(ctx, r.OrderID)
	if charges, _ := charger.counts(); err != nil || have.Status != payment.Paid || charges != 1 {
		t.Errorf("want the order Paid after 1 charge, have %+v after %d (%v)", have, charges, err)
	}
	now := clock.Now()
	a, err := repo.Attempt(ctx, r.OrderID, payment.ChargeWork, 2)
	if err != nil || a.Replica != "r2" || !a.At.Equal(now) || !a.LeaseUntil.Equal(now.Add(lease)) {
		t.Errorf("want attempt 2 by r2 at %v until %v, have %+v (%v)", now, now.Add(lease), a, err)
	}
	if len(events.processed) != 1 {
		t.Errorf("want the outcome published once, have %+v", events.processed)
	}
}

func TestTheChargerIsGivenTheLeaseLessAMarginByTheClock(t *testing.T) {
	// The clock is far from the system's: a deadline taken from the
	// system's clock would be long past or far off.
	clock := testenv.NewClock(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))
	charger := &countingCharger{}
	svc := newService(newMemoryRepo(t), charger, &outbox{}, "r1", payment.WithClock(clock.Now))
	begin := time.Now()
	if _, err := svc.Charge(context.Background(), request("1")); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	if len(charger.deadlines) != 1 {
		t.Fatalf("want 1 charge, have %d", len(charger.deadlines))
	}
	want := lease - lease/5
	if have := charger.deadlines[0]; have.Before(begin.Add(want)) || have.After(end.Add(want)) {
		t.Errorf("want a deadline %v from the call, have %v after its start", want, have.Sub(begin))
	}
}

// unavailableStore fails every record as a store that cannot be reached,
// moving the clock on by step each time; after limit records it fails for
// good.
type unavailableStore struct {
	*paymentstore.Store
	clock  *testenv.Clock
	step   time.Duration
	limit  int
	mu     sync.Mutex
	writes int
}

func (s *unavailableStore) Record(context.Context, payment.Payment) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if s.writes > s.limit {
		return errors.New("retried past the lease")
	}
	s.clock.Advance(s.step)
	return fmt.Errorf("%w: connection refused", payment.ErrUnavailable)
}

func TestAnAnswerIsRecordedAgainUntilTheLeaseRunsOutByTheClock(t *testing.T) {
	clock := testenv.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	repo := &unavailableStore{Store: newMemoryRepo(t), clock: clock, step: lease * 2 / 5, limit: 5}
	svc := newService(repo, &countingCharger{}, &outbox{}, "r1", payment.WithClock(clock.Now))
	_, err := svc.Charge(context.Background(), request("1"))
	if !errors.Is(err, payment.ErrUnavailable) {
		t.Errorf("want ErrUnavailable once the lease ran out, have %v", err)
	}
	// Written at 0.4, 0.8 and 1.2 leases: the third is past the lease.
	if repo.writes != 3 {
		t.Errorf("want 3 writes within the lease, have %d", repo.writes)
	}
}

// flakyStore loses the first records it is asked for, as a store that went
// away for a moment.
type flakyStore struct {
	*paymentstore.Store
	mu    sync.Mutex
	fails int
}

func (f *flakyStore) Record(ctx context.Context, p payment.Payment) error {
	f.mu.Lock()
	fail := f.fails > 0
	f.fails--
	f.mu.Unlock()
	if fail {
		return fmt.Errorf("%w: connection refused", payment.ErrUnavailable)
	}
	return f.Store.Record(ctx, p)
}

func TestAnAnswerIsRecordedOnceTheStoreIsBackWithoutAskingTheProviderAgain(t *testing.T) {
	ctx := context.Background()
	repo := &flakyStore{Store: newMemoryRepo(t), fails: 2}
	charger, events := &countingCharger{}, &outbox{}
	r := request("1")
	if _, err := newService(repo, charger, events, "r1").Charge(ctx, r); err != nil {
		t.Fatal(err)
	}
	have, err := repo.Payment(ctx, r.OrderID)
	if charges, _ := charger.counts(); err != nil || have.Status != payment.Paid || charges != 1 {
		t.Errorf("want Paid after 1 charge, have %+v after %d (%v)", have, charges, err)
	}
}

func TestRefundsHappenOnceAndOnlyForPaidPayments(t *testing.T) {
	events := &outbox{}
	svc := newService(newMemoryRepo(t), payment.DemoCharger{}, events, "r1")
	ctx := context.Background()
	paid, declined := request("1"), request("2")
	for _, r := range []payment.ChargeRequest{paid, declined} {
		if _, err := svc.Charge(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if _, err := svc.Refund(ctx, payment.RefundRequest{OrderID: paid.OrderID, CorrelationID: "cancel-1"}); err != nil {
			t.Fatal(err)
		}
	}
	if len(events.refunded) != 2 {
		t.Fatalf("want the refund published twice (once done, once repeated), have %+v", events.refunded)
	}
	for _, p := range events.refunded {
		if p.Status != payment.Refunded || p.OrderID != paid.OrderID || p.ID != events.processed[0].ID {
			t.Errorf("want the order's payment %s Refunded, have %+v", events.processed[0].ID, p)
		}
		if p.CorrelationID != "cancel-1" {
			t.Errorf("the refund's event carries %q, not the cancel's request id", p.CorrelationID)
		}
	}
	if _, err := svc.Refund(ctx, payment.RefundRequest{OrderID: declined.OrderID}); err == nil {
		t.Error("a declined payment was refunded")
	}
	if _, err := svc.Refund(ctx, payment.RefundRequest{OrderID: request("1").OrderID}); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("an order never charged: want ErrNotFound, have %v", err)
	}
}

func TestARefundIsRecordedAtTheTimeOfTheClock(t *testing.T) {
	ctx := context.Background()
	repo := newMemoryRepo(t)
	clock := testenv.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	svc := newService(repo, payment.DemoCharger{}, &outbox{}, "r1", payment.WithClock(clock.Now))
	r := request("1")
	if _, err := svc.Charge(ctx, r); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	if _, err := svc.Refund(ctx, payment.RefundRequest{OrderID: r.OrderID, CorrelationID: "c-refund"}); err != nil {
		t.Fatal(err)
	}
	have, err := repo.Payment(ctx, r.OrderID)
	if err != nil || have.Status != payment.Refunded || !have.RefundedAt.Equal(clock.Now()) {
		t.Errorf("want Refunded at %v, have %+v (%v)", clock.Now(), have, err)
	}
}

func TestAReplicaDoesNotChargeWhileAnotherIsCharging(t *testing.T) {
	repo := newMemoryRepo(t)
	slow := &countingCharger{hold: make(chan struct{})}
	first := newService(repo, slow, &outbox{}, "r1")
	other := &countingCharger{}
	second := newService(repo, other, &outbox{}, "r2")
	r := request("1")

	done := make(chan error)
	go func() { _, err := first.Charge(context.Background(), r); done <- err }()
	testenv.Eventually(t, 5*time.Second, "the first replica never started charging", func() bool {
		charges, _ := slow.counts()
		return charges == 1
	})
	// A redelivery reaches the second replica while the first is charging.
	if _, err := second.Charge(context.Background(), r); !errors.Is(err, payment.ErrBusy) {
		t.Errorf("want ErrBusy, have %v", err)
	}
	close(slow.hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if charges, _ := other.counts(); charges != 0 {
		t.Errorf("the second replica charged %d times", charges)
	}
	if _, err := second.Charge(context.Background(), r); err != nil {
		t.Errorf("once recorded, the outcome is republished by any replica: %v", err)
	}
}

func TestARefundIsMadeOnceAcrossRepeatedRequests(t *testing.T) {
	charger := &countingCharger{}
	svc := newService(newMemoryRepo(t), charger, &outbox{}, "r1")
	r := request("1")
	if _, err := svc.Charge(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := svc.Refund(context.Background(), payment.RefundRequest{OrderID: r.OrderID}); err != nil {
			t.Fatal(err)
		}
	}
	if _, refunds := charger.counts(); refunds != 1 {
		t.Errorf("want 1 refund, have %d", refunds)
	}
}

func TestALocalChargerIsAskedWithoutClaimingAnAttempt(t *testing.T) {
	ctx := context.Background()
	repo := newMemoryRepo(t)
	events := &outbox{}
	svc := newService(repo, payment.DemoCharger{}, events, "r1")
	r := request("1")
	if _, err := svc.Charge(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Refund(ctx, payment.RefundRequest{OrderID: r.OrderID}); err != nil {
		t.Fatal(err)
	}
	have, err := repo.Payment(ctx, r.OrderID)
	if err != nil || have.Status != payment.Refunded {
		t.Errorf("want the payment Refunded, have %+v (%v)", have, err)
	}
	for _, work := range []payment.Work{payment.ChargeWork, payment.RefundWork} {
		if a, err := repo.Attempt(ctx, r.OrderID, work, 1); !errors.Is(err, payment.ErrNotFound) {
			t.Errorf("%s: want no attempt claimed, have %+v (%v)", work, a, err)
		}
	}
	if len(events.processed) != 1 || len(events.refunded) != 1 {
		t.Errorf("want the outcome and the refund published once each, have %+v and %+v", events.processed, events.refunded)
	}
}

func TestALeasedLocalChargerIsAskedUnderAnAttempt(t *testing.T) {
	ctx := context.Background()
	repo := newMemoryRepo(t)
	svc := newService(repo, payment.Leased(payment.DemoCharger{}), &outbox{}, "r1")
	r := request("1")
	if _, err := svc.Charge(ctx, r); err != nil {
		t.Fatal(err)
	}
	if a, err := repo.Attempt(ctx, r.OrderID, payment.ChargeWork, 1); err != nil || a.Replica != "r1" {
		t.Errorf("want attempt 1 claimed by r1, have %+v (%v)", a, err)
	}
}

func TestReplicasAskingALocalChargerAtOnceTellOneOutcome(t *testing.T) {
	ctx := context.Background()
	repo := newMemoryRepo(t)
	hold := make(chan struct{})
	chargers := []*countingCharger{{local: true, hold: hold}, {local: true, hold: hold}}
	events := []*outbox{{}, {}}
	r := request("1")
	done := make(chan error)
	for i, c := range chargers {
		svc := newService(repo, c, events[i], fmt.Sprintf("r%d", i+1))
		go func() { _, err := svc.Charge(ctx, r); done <- err }()
	}
	testenv.Eventually(t, 5*time.Second, "the replicas never both asked the charger", func() bool {
		first, _ := chargers[0].counts()
		second, _ := chargers[1].counts()
		return first+second == 2
	})
	close(hold)
	for range chargers {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	recorded, err := repo.Payment(ctx, r.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range events {
		if len(e.processed) != 1 || e.processed[0].ID != recorded.ID {
			t.Errorf("replica %d: want the recorded payment %s told once, have %+v", i+1, recorded.ID, e.processed)
		}
	}
}

func TestALocalChargersAnswerIsNotRecordedAgainWhenTheStoreIsAway(t *testing.T) {
	clock := testenv.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	repo := &unavailableStore{Store: newMemoryRepo(t), clock: clock, step: time.Millisecond, limit: 5}
	events := &outbox{}
	_, err := newService(repo, payment.DemoCharger{}, events, "r1", payment.WithClock(clock.Now)).Charge(context.Background(), request("1"))
	if !errors.Is(err, payment.ErrUnavailable) || repo.writes != 1 {
		t.Errorf("want ErrUnavailable after 1 write, left to the outbox's next announcement; have %v after %d", err, repo.writes)
	}
	if len(events.processed) != 0 {
		t.Errorf("an outcome never recorded was told: %+v", events.processed)
	}
}
