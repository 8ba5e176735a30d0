package order

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestSetStatus(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		from    State
		to      Status
		want    State
		wantErr bool
	}{
		{State{Processing, Pending}, Cancelled, State{Cancelled, Pending}, false},
		{State{Processing, Pending}, Confirmed, State{Processing, Pending}, true},
		{State{Success, Paid}, Confirmed, State{Confirmed, Paid}, false},
		{State{Success, Paid}, Cancelled, State{Cancelled, Refunding}, false},
		{State{Failed, Declined}, Cancelled, State{Failed, Declined}, true},
		{State{Failed, Declined}, Confirmed, State{Failed, Declined}, true},
		{State{Confirmed, Paid}, Cancelled, State{Confirmed, Paid}, true},
		{State{Cancelled, Refunded}, Confirmed, State{Cancelled, Refunded}, true},
		{State{Cancelled, Refunded}, Cancelled, State{Cancelled, Refunded}, false}, // asking again changes nothing
	} {
		o := Order{Status: tc.from.Status, PaymentStatus: tc.from.PaymentStatus}
		have, err := o.SetStatus(tc.to, now)
		var terr *TransitionError
		if tc.wantErr != errors.As(err, &terr) || have.State() != tc.want {
			t.Errorf("%v -> %s: want %v (error %v), have %v (%v)", tc.from, tc.to, tc.want, tc.wantErr, have.State(), err)
		}
	}
}

func TestSetStatusRefusesServerOwnedStatuses(t *testing.T) {
	o := Order{Status: Processing, PaymentStatus: Pending}
	for _, to := range []Status{Processing, Success, Failed, "Shipped"} {
		if _, err := o.SetStatus(to, time.Now()); !errors.Is(err, ErrStatusNotSettable) {
			t.Errorf("%s: want ErrStatusNotSettable, have %v", to, err)
		}
	}
}

func TestTransitionErrorNamesCurrentAndAllowedStatuses(t *testing.T) {
	var terr *TransitionError
	_, err := Order{Status: Processing, PaymentStatus: Pending}.SetStatus(Confirmed, time.Now())
	if !errors.As(err, &terr) || terr.From != Processing || terr.To != Confirmed || !slices.Equal(terr.Allowed, []Status{Cancelled}) {
		t.Errorf("want Processing to Confirmed refused, only Cancelled allowed; have %v", err)
	}
	_, err = Order{Status: Failed, PaymentStatus: Declined}.SetStatus(Cancelled, time.Now())
	if !errors.As(err, &terr) || terr.From != Failed || len(terr.Allowed) != 0 {
		t.Errorf("want Failed final, have %v", err)
	}
}

func TestApplyPayment(t *testing.T) {
	for _, tc := range []struct {
		from        State
		paid        bool
		want        State
		wantChanged bool
	}{
		{State{Processing, Pending}, true, State{Success, Paid}, true},
		{State{Processing, Pending}, false, State{Failed, Declined}, true},
		{State{Cancelled, Pending}, true, State{Cancelled, Refunding}, true},
		{State{Cancelled, Pending}, false, State{Cancelled, Declined}, true},
		// Duplicates and stale outcomes change nothing.
		{State{Success, Paid}, true, State{Success, Paid}, false},
		{State{Success, Paid}, false, State{Success, Paid}, false},
		{State{Failed, Declined}, true, State{Failed, Declined}, false},
		{State{Cancelled, Refunded}, true, State{Cancelled, Refunded}, false},
	} {
		o := Order{Status: tc.from.Status, PaymentStatus: tc.from.PaymentStatus}
		have := o.ApplyPayment(PaymentOutcome{Paid: tc.paid, Reason: "r"}, time.Now())
		if changed := have.Version != o.Version; have.State() != tc.want || changed != tc.wantChanged {
			t.Errorf("%v + paid=%v: want %v (changed %v), have %v at version %d", tc.from, tc.paid, tc.want, tc.wantChanged, have.State(), have.Version)
		}
	}
}

func TestApplyRefund(t *testing.T) {
	o := Order{Status: Cancelled, PaymentStatus: Refunding}
	have := o.ApplyRefund(time.Now())
	if have.Version != 1 || have.PaymentStatus != Refunded {
		t.Errorf("want Refunded at version 1, have %s at %d", have.PaymentStatus, have.Version)
	}
	if again := have.ApplyRefund(time.Now()); again != have {
		t.Error("a second refund event changed the order")
	}
}

func TestAnOrderAwaitsPaymentsvcWhilePendingOrRefunding(t *testing.T) {
	for _, tc := range []struct {
		state State
		want  PaymentStatus
	}{
		{State{Processing, Pending}, Pending},
		{State{Cancelled, Pending}, Pending},
		{State{Cancelled, Refunding}, Refunding},
		{State{Success, Paid}, ""},
		{State{Failed, Declined}, ""},
		{State{Cancelled, Refunded}, ""},
	} {
		o := Order{Status: tc.state.Status, PaymentStatus: tc.state.PaymentStatus}
		if have := o.Awaits(); have != tc.want {
			t.Errorf("%v: want it to await %q, have %q", tc.state, tc.want, have)
		}
	}
}
