package paymentstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/objectid"
	"github.com/orderflow/orderflow/paymentsvc/payment"
	"github.com/orderflow/orderflow/paymentsvc/paymentstore"
	"github.com/orderflow/orderflow/paymentsvc/paymentstore/paymentstoretest"
)

// The suite in memory; devstack runs it on the embedded FerretDB.
func TestTheStoreInMemory(t *testing.T) {
	paymentstoretest.Run(t, func(*testing.T) docstore.Database { return docstore.NewMemory() })
}

// unreachable is a docstore.Database whose store cannot be reached.
type unreachable struct{}

var errUnreachable = fmt.Errorf("%w: connection refused", docstore.ErrUnavailable)

func (unreachable) Collection(string) docstore.Collection                     { return unreachable{} }
func (unreachable) CreateCollection(context.Context, string, ...string) error { return nil }
func (unreachable) HasCollection(context.Context, string) (bool, error)       { return false, nil }
func (unreachable) Insert(context.Context, any) error                         { return errUnreachable }
func (unreachable) Find(context.Context, any, any) error                      { return errUnreachable }
func (unreachable) Delete(context.Context, ...any) error                      { return errUnreachable }
func (unreachable) Due(context.Context, string, time.Time, int, any) error    { return errUnreachable }

func TestAStoreThatCannotBeReachedIsErrUnavailable(t *testing.T) {
	ctx := context.Background()
	s, err := paymentstore.NewStore(ctx, unreachable{})
	if err != nil {
		t.Fatal(err)
	}
	p := payment.Payment{ID: objectid.New(), OrderID: objectid.New()}
	_, errAttempt := s.Attempt(ctx, p.OrderID, payment.ChargeWork, 1)
	_, errPayment := s.Payment(ctx, p.OrderID)
	for name, err := range map[string]error{
		"Claim":        s.Claim(ctx, payment.Attempt{OrderID: p.OrderID, Work: payment.ChargeWork, N: 1}),
		"Attempt":      errAttempt,
		"Record":       s.Record(ctx, p),
		"RecordRefund": s.RecordRefund(ctx, p.OrderID, "", time.Now()),
		"Payment":      errPayment,
	} {
		if !errors.Is(err, payment.ErrUnavailable) || !errors.Is(err, docstore.ErrUnavailable) || err.Error() != errUnreachable.Error() {
			t.Errorf("%s: want payment.ErrUnavailable saying %q, have %v", name, errUnreachable, err)
		}
	}
}

// refundsUnreachable is an in-memory Database whose refunds cannot be read.
type refundsUnreachable struct{ *docstore.Memory }

func (d refundsUnreachable) Collection(name string) docstore.Collection {
	if name == "refunds" {
		return unreachable{}
	}
	return d.Memory.Collection(name)
}

func TestAPaymentWhoseRefundCannotBeReadIsErrUnavailable(t *testing.T) {
	ctx := context.Background()
	s, err := paymentstore.NewStore(ctx, refundsUnreachable{docstore.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	p := payment.Payment{ID: objectid.New(), OrderID: objectid.New(), Status: payment.Paid}
	if err := s.Record(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Payment(ctx, p.OrderID); !errors.Is(err, payment.ErrUnavailable) {
		t.Errorf("want ErrUnavailable, have %v", err)
	}
}
