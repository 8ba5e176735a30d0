package paymentapi_test

import (
	"context"
	"errors"
	"testing"

	"github.com/go-kit/kit/endpoint"

	"github.com/orderflow/orderflow/paymentsvc/payment"
	"github.com/orderflow/orderflow/paymentsvc/paymentapi"
)

// recordingService keeps the requests it was given and answers them with err.
type recordingService struct {
	charges []payment.ChargeRequest
	refunds []payment.RefundRequest
	err     error
}

func (s *recordingService) Charge(_ context.Context, r payment.ChargeRequest) (payment.Payment, error) {
	s.charges = append(s.charges, r)
	return payment.Payment{OrderID: r.OrderID}, s.err
}

func (s *recordingService) Refund(_ context.Context, r payment.RefundRequest) (payment.Payment, error) {
	s.refunds = append(s.refunds, r)
	return payment.Payment{OrderID: r.OrderID}, s.err
}

func TestTheEndpointsCallTheServiceWithTheRequest(t *testing.T) {
	svc := &recordingService{}
	e := paymentapi.MakeEndpoints(svc, nil)
	charge := payment.ChargeRequest{OrderID: "o1", UserID: "u1", ProductID: "1", Amount: 9900, Currency: "MYR", CorrelationID: "c1"}
	refund := payment.RefundRequest{OrderID: "o1", CorrelationID: "c2"}
	ctx := context.Background()

	resp, err := e.ChargeEndpoint(ctx, paymentapi.ChargeRequest{Charge: charge})
	if err != nil || resp.(endpoint.Failer).Failed() != nil {
		t.Errorf("charge: want a response without error, have %#v (%v)", resp, err)
	}
	resp, err = e.RefundEndpoint(ctx, paymentapi.RefundRequest{Refund: refund})
	if err != nil || resp.(endpoint.Failer).Failed() != nil {
		t.Errorf("refund: want a response without error, have %#v (%v)", resp, err)
	}
	if len(svc.charges) != 1 || svc.charges[0] != charge || len(svc.refunds) != 1 || svc.refunds[0] != refund {
		t.Errorf("want the service called with %+v and %+v, have %+v and %+v", charge, refund, svc.charges, svc.refunds)
	}
}

func TestTheServicesErrorsTravelInTheResponse(t *testing.T) {
	e := paymentapi.MakeEndpoints(&recordingService{err: payment.ErrBusy}, nil)
	ctx := context.Background()
	for name, call := range map[string]func() (any, error){
		"charge": func() (any, error) { return e.ChargeEndpoint(ctx, paymentapi.ChargeRequest{}) },
		"refund": func() (any, error) { return e.RefundEndpoint(ctx, paymentapi.RefundRequest{}) },
	} {
		resp, err := call()
		if err != nil {
			t.Errorf("%s: want no endpoint error, have %v", name, err)
			continue
		}
		if f, ok := resp.(endpoint.Failer); !ok || !errors.Is(f.Failed(), payment.ErrBusy) {
			t.Errorf("%s: want a response failed with ErrBusy, have %#v", name, resp)
		}
	}
}

func TestARequestOfTheWrongTypeIsAnEndpointError(t *testing.T) {
	e := paymentapi.MakeEndpoints(&recordingService{}, nil)
	ctx := context.Background()
	if _, err := e.ChargeEndpoint(ctx, paymentapi.RefundRequest{}); err == nil {
		t.Error("charge endpoint: want an error for a RefundRequest")
	}
	if _, err := e.RefundEndpoint(ctx, payment.RefundRequest{}); err == nil {
		t.Error("refund endpoint: want an error for a payment.RefundRequest")
	}
}

func TestTheEndpointsAreAServiceThatReturnsTheServicesErrors(t *testing.T) {
	svc := &recordingService{err: payment.ErrNotFound}
	var s payment.Service = paymentapi.MakeEndpoints(svc, nil)
	ctx := context.Background()
	if _, err := s.Charge(ctx, payment.ChargeRequest{OrderID: "o1"}); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("charge: want ErrNotFound, have %v", err)
	}
	if _, err := s.Refund(ctx, payment.RefundRequest{OrderID: "o2"}); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("refund: want ErrNotFound, have %v", err)
	}
	if len(svc.charges) != 1 || svc.charges[0].OrderID != "o1" || len(svc.refunds) != 1 || svc.refunds[0].OrderID != "o2" {
		t.Errorf("want each call passed on, have %+v and %+v", svc.charges, svc.refunds)
	}
}
