package orderstore

import (
	"errors"
	"testing"

	"github.com/orderflow/orderflow/ordersvc/order"
)

func TestCursorRoundTrips(t *testing.T) {
	for _, p := range []position{1, 49, 1 << 40} {
		have, err := decodeCursor("u1", encodeCursor("u1", p))
		if err != nil || have != p {
			t.Errorf("want %v, have %v (%v)", p, have, err)
		}
	}
	for _, bad := range []string{"", "!!", "bm9wZQ", encodeCursor("u1", 0), encodeCursor("u1", -3), "bjAx", "bjE", encodeCursor("u2", 7)} {
		if _, err := decodeCursor("u1", bad); !errors.Is(err, order.ErrInvalidCursor) {
			t.Errorf("%q: want ErrInvalidCursor, have %v", bad, err)
		}
	}
}

// FuzzDecodeCursor checks that any text either is refused or is a cursor
// of the user that encodes back to itself.
func FuzzDecodeCursor(f *testing.F) {
	for _, seed := range []string{"", encodeCursor("u1", 1), encodeCursor("u1", 1<<40), "bjAx", "!!", encodeCursor("u2", 7)} {
		f.Add("u1", seed)
	}
	f.Fuzz(func(t *testing.T, user, c string) {
		p, err := decodeCursor(user, c)
		switch {
		case err != nil && !errors.Is(err, order.ErrInvalidCursor):
			t.Fatalf("want ErrInvalidCursor, have %v", err)
		case err == nil && (p < 1 || encodeCursor(user, p) != c):
			t.Fatalf("accepted %q as position %d of %q", c, p, user)
		}
	})
}
