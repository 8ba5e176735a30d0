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
		have, changed := o.ApplyPayment(PaymentOutcome{Paid: tc.paid, Reason: "r"}, time.Now())
		if have.State() != tc.want || changed != tc.wantChanged {
			t.Errorf("%v + paid=%v: want %v (changed %v), have %v (%v)", tc.from, tc.paid, tc.want, tc.wantChanged, have.State(), changed)
		}
	}
}

func TestApplyRefund(t *testing.T) {
	o := Order{Status: Cancelled, PaymentStatus: Refunding}
	have, changed := o.ApplyRefund(time.Now())
	if !changed || have.PaymentStatus != Refunded {
		t.Errorf("want Refunded, have %s (changed %v)", have.PaymentStatus, changed)
	}
	if _, changed := have.ApplyRefund(time.Now()); changed {
		t.Error("a second refund event changed the order")
	}
}

func TestBackoffDoublesUpToItsCap(t *testing.T) {
	b := Backoff{Min: time.Second, Max: 10 * time.Second}
	want := []time.Duration{1, 2, 4, 8, 10, 10}
	for n, w := range want {
		if have := b.Delay(n); have != w*time.Second {
			t.Errorf("delay %d: want %v, have %v", n, w*time.Second, have)
		}
	}
	if have := b.Delay(1000); have != b.Max {
		t.Errorf("delay 1000: want %v, have %v", b.Max, have)
	}
}

func TestCursorRoundTrips(t *testing.T) {
	for _, p := range []Position{1, 49, 1 << 40} {
		have, err := DecodeCursor("u1", EncodeCursor("u1", p))
		if err != nil || have != p {
			t.Errorf("want %v, have %v (%v)", p, have, err)
		}
	}
	for _, bad := range []string{"!!", "bm9wZQ", EncodeCursor("u1", 0), EncodeCursor("u1", -3), "bjAx", "bjE"} {
		if _, err := DecodeCursor("u1", bad); !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("%q: want ErrInvalidCursor, have %v", bad, err)
		}
	}
}

func TestACursorContinuesOnlyTheListOfItsUser(t *testing.T) {
	c := EncodeCursor("u1", 10)
	if _, err := DecodeCursor("u2", c); !errors.Is(err, ErrInvalidCursor) {
		t.Errorf("u1's cursor on u2's list: want ErrInvalidCursor, have %v", err)
	}
}

// FuzzDecodeCursor checks that any text either is refused or is a cursor
// of the user that encodes back to itself.
func FuzzDecodeCursor(f *testing.F) {
	for _, seed := range []string{"", EncodeCursor("u1", 1), EncodeCursor("u1", 1<<40), "bjAx", "!!", EncodeCursor("u2", 7)} {
		f.Add("u1", seed)
	}
	f.Fuzz(func(t *testing.T, user, c string) {
		p, err := DecodeCursor(user, c)
		switch {
		case err != nil && !errors.Is(err, ErrInvalidCursor):
			t.Fatalf("want ErrInvalidCursor, have %v", err)
		case err == nil && c != "" && (p < 1 || EncodeCursor(user, p) != c):
			t.Fatalf("accepted %q as position %d of %q", c, p, user)
		}
	})
}
