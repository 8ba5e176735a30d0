// Package paymentstoretest is what paymentsvc relies on of its store, as
// one suite that runs on every database the Store runs on: in memory, in
// paymentstore's own tests, and on the embedded FerretDB, in devstack's,
// where the races of the use cases are settled by the server's inserts and
// lookups by _id rather than by a map in memory.
package paymentstoretest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/objectid"
	"github.com/orderflow/orderflow/paymentsvc/payment"
	"github.com/orderflow/orderflow/paymentsvc/paymentstore"
)

// Run runs the suite; newDB returns an empty Database for each test.
func Run(t *testing.T, newDB func(t *testing.T) docstore.Database) {
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 10, 0, 0, 123_000_000, time.UTC)
	newStore := func(t *testing.T) (*paymentstore.Store, docstore.Database) {
		t.Helper()
		db := newDB(t)
		s, err := paymentstore.NewStore(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		return s, db
	}
	newPayment := func(status payment.Status) payment.Payment {
		p := payment.Payment{
			ID: objectid.New(), OrderID: objectid.New(), UserID: "u1", ProductID: "1",
			Amount: 9900, Currency: "MYR", Status: status, CorrelationID: "c1", CreatedAt: at,
		}
		if status == payment.Declined {
			p.ProductID, p.Reason = "2", "cannot be paid for"
		}
		return p
	}

	t.Run("a payment reads back as it was recorded", func(t *testing.T) {
		s, _ := newStore(t)
		for _, want := range []payment.Payment{newPayment(payment.Paid), newPayment(payment.Declined)} {
			if err := s.Record(ctx, want); err != nil {
				t.Fatal(err)
			}
			if have, err := s.Payment(ctx, want.OrderID); err != nil || have != want {
				t.Errorf("want %+v, have %+v (%v)", want, have, err)
			}
		}
	})

	t.Run("an order has one payment: a second is ErrDuplicate and changes nothing", func(t *testing.T) {
		s, _ := newStore(t)
		first := newPayment(payment.Paid)
		second := newPayment(payment.Declined)
		second.OrderID = first.OrderID
		if err := s.Record(ctx, first); err != nil {
			t.Fatal(err)
		}
		if err := s.Record(ctx, second); !errors.Is(err, payment.ErrDuplicate) {
			t.Errorf("want ErrDuplicate, have %v", err)
		}
		if have, err := s.Payment(ctx, first.OrderID); err != nil || have != first {
			t.Errorf("want the first payment %+v, have %+v (%v)", first, have, err)
		}
	})

	t.Run("an order without a payment is ErrNotFound", func(t *testing.T) {
		s, _ := newStore(t)
		if _, err := s.Payment(ctx, objectid.New()); !errors.Is(err, payment.ErrNotFound) {
			t.Errorf("want ErrNotFound, have %v", err)
		}
	})

	t.Run("a payment id that is not an ObjectID is refused", func(t *testing.T) {
		s, _ := newStore(t)
		p := newPayment(payment.Paid)
		p.ID = "not-an-object-id"
		if err := s.Record(ctx, p); err == nil {
			t.Error("want an error")
		}
	})

	t.Run("a refunded payment reads back Refunded, once", func(t *testing.T) {
		s, _ := newStore(t)
		p := newPayment(payment.Paid)
		if err := s.Record(ctx, p); err != nil {
			t.Fatal(err)
		}
		refundedAt := at.Add(time.Hour)
		if err := s.RecordRefund(ctx, p.OrderID, "c2", refundedAt); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordRefund(ctx, p.OrderID, "c3", refundedAt.Add(time.Hour)); !errors.Is(err, payment.ErrDuplicate) {
			t.Errorf("a second refund: want ErrDuplicate, have %v", err)
		}
		want := p
		want.Status, want.RefundedAt = payment.Refunded, refundedAt
		if have, err := s.Payment(ctx, p.OrderID); err != nil || have != want || !have.Paid() {
			t.Errorf("want %+v, have %+v (%v)", want, have, err)
		}
	})

	t.Run("an attempt is claimed once and reads back", func(t *testing.T) {
		s, _ := newStore(t)
		orderID := objectid.New()
		want := payment.Attempt{OrderID: orderID, Work: payment.ChargeWork, N: 1, Replica: "r1", At: at, LeaseUntil: at.Add(time.Minute)}
		if err := s.Claim(ctx, want); err != nil {
			t.Fatal(err)
		}
		if err := s.Claim(ctx, payment.Attempt{OrderID: orderID, Work: payment.ChargeWork, N: 1, Replica: "r2", At: at, LeaseUntil: at}); !errors.Is(err, payment.ErrDuplicate) {
			t.Errorf("the same number again: want ErrDuplicate, have %v", err)
		}
		if have, err := s.Attempt(ctx, orderID, payment.ChargeWork, 1); err != nil || have != want {
			t.Errorf("want %+v, have %+v (%v)", want, have, err)
		}
		for _, c := range []struct {
			work payment.Work
			n    int
		}{{payment.ChargeWork, 2}, {payment.RefundWork, 1}} {
			if _, err := s.Attempt(ctx, orderID, c.work, c.n); !errors.Is(err, payment.ErrNotFound) {
				t.Errorf("%s attempt %d: want ErrNotFound, have %v", c.work, c.n, err)
			}
		}
	})

	t.Run("of concurrent claims of an attempt, one wins", func(t *testing.T) {
		s, _ := newStore(t)
		orderID := objectid.New()
		var won, lost atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				a := payment.Attempt{OrderID: orderID, Work: payment.RefundWork, N: 1, Replica: fmt.Sprint("r", i), At: at, LeaseUntil: at}
				switch err := s.Claim(ctx, a); {
				case err == nil:
					won.Add(1)
				case errors.Is(err, payment.ErrDuplicate):
					lost.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if won.Load() != 1 || lost.Load() != 7 {
			t.Errorf("want 1 claim won and 7 lost, have %d and %d", won.Load(), lost.Load())
		}
	})

	t.Run("the documents keep their collections, _ids and fields", func(t *testing.T) {
		s, db := newStore(t)
		p := newPayment(payment.Declined)
		if err := s.Record(ctx, p); err != nil {
			t.Fatal(err)
		}
		paid := newPayment(payment.Paid)
		if err := s.Record(ctx, paid); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordRefund(ctx, paid.OrderID, "c2", at); err != nil {
			t.Fatal(err)
		}
		if err := s.Claim(ctx, payment.Attempt{OrderID: p.OrderID, Work: payment.ChargeWork, N: 3, Replica: "r1", At: at, LeaseUntil: at.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		id, _ := bson.ObjectIDFromHex(p.ID)
		ms := func(t time.Time) bson.DateTime { return bson.NewDateTimeFromTime(t) }
		for _, c := range []struct {
			collection string
			id         string
			want       bson.M
		}{
			{"payments", p.OrderID, bson.M{
				"_id": p.OrderID, "paymentId": id, "userId": "u1", "productId": "2", "amount": int64(9900),
				"currency": "MYR", "status": "Declined", "reason": p.Reason, "correlationId": "c1", "createdAt": ms(at),
			}},
			{"refunds", paid.OrderID, bson.M{"_id": paid.OrderID, "correlationId": "c2", "refundedAt": ms(at)}},
			{"payment_attempts", p.OrderID + "/charge/3", bson.M{
				"_id": p.OrderID + "/charge/3", "replica": "r1", "at": ms(at), "leaseUntil": ms(at.Add(time.Minute)),
			}},
		} {
			var have bson.M
			if err := db.Collection(c.collection).Find(ctx, c.id, &have); err != nil {
				t.Errorf("%s %s: %v", c.collection, c.id, err)
				continue
			}
			if !reflect.DeepEqual(have, c.want) {
				t.Errorf("%s %s:\nwant %#v\nhave %#v", c.collection, c.id, c.want, have)
			}
		}
	})

	t.Run("an order asked for five times at once is charged once, and its outcome told each time", func(t *testing.T) {
		s, _ := newStore(t)
		charger, events := &countingCharger{}, &told{}
		svc := newService(s, charger, events, "r1")
		r := request("1")
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				if _, err := svc.Charge(ctx, r); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if charges := charger.charges.Load(); charges != 1 {
			t.Errorf("want 1 charge, have %d", charges)
		}
		events.mu.Lock()
		defer events.mu.Unlock()
		if len(events.processed) != 5 {
			t.Fatalf("want the outcome told for every request, have %d", len(events.processed))
		}
		for _, p := range events.processed {
			if p.Status != payment.Paid || p.ID != events.processed[0].ID || p.CorrelationID != r.CorrelationID {
				t.Errorf("want one Paid payment, have %+v", p)
			}
		}
	})

	t.Run("two replicas asked at once charge each order once", func(t *testing.T) {
		s, _ := newStore(t)
		charger := &countingCharger{}
		replicas := []payment.Service{newService(s, charger, &told{}, "r1"), newService(s, charger, &told{}, "r2")}
		for range 10 {
			r := request("1")
			var wg sync.WaitGroup
			for _, svc := range replicas {
				wg.Go(func() {
					if _, err := svc.Charge(ctx, r); err != nil && !errors.Is(err, payment.ErrBusy) {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		}
		if charges := charger.charges.Load(); charges != 10 {
			t.Errorf("want 10 charges for 10 orders, have %d", charges)
		}
	})

	t.Run("two replicas asking the demo rule at once record one payment per order, and tell it", func(t *testing.T) {
		s, _ := newStore(t)
		events := []*told{{}, {}}
		replicas := []payment.Service{newService(s, payment.DemoCharger{}, events[0], "r1"), newService(s, payment.DemoCharger{}, events[1], "r2")}
		var orders []string
		for range 10 {
			r := request("1")
			orders = append(orders, r.OrderID)
			var wg sync.WaitGroup
			for _, svc := range replicas {
				wg.Go(func() {
					if _, err := svc.Charge(ctx, r); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		}
		for i, id := range orders {
			recorded, err := s.Payment(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			for r, e := range events {
				if have := e.processed[i]; have.ID != recorded.ID || have.Status != payment.Paid {
					t.Errorf("order %s, replica %d: want the recorded payment %s told, have %+v", id, r+1, recorded.ID, have)
				}
			}
		}
	})
}

// countingCharger is the demo rule as a payment provider would be asked,
// under a lease, counting its charges.
type countingCharger struct {
	payment.DemoCharger
	charges atomic.Int32
}

func (c *countingCharger) Local() bool { return false }

func (c *countingCharger) Charge(ctx context.Context, r payment.ChargeRequest) (bool, string, error) {
	c.charges.Add(1)
	return c.DemoCharger.Charge(ctx, r)
}

// told keeps what the service told ordersvc.
type told struct {
	mu        sync.Mutex
	processed []payment.Payment
}

func (e *told) PaymentProcessed(_ context.Context, p payment.Payment) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.processed = append(e.processed, p)
	return nil
}

func (e *told) PaymentRefunded(context.Context, payment.Payment) error { return nil }

func newService(repo payment.Repository, charger payment.Charger, events payment.Events, replica string) payment.Service {
	return payment.NewService(repo, charger, events, time.Minute, replica, log.NewNopLogger())
}

func request(product string) payment.ChargeRequest {
	return payment.ChargeRequest{OrderID: objectid.New(), UserID: "u1", ProductID: product, Amount: 9900, Currency: "MYR", CorrelationID: "c-" + product}
}
