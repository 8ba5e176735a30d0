package gateway

import (
	"errors"
	"testing"

	"github.com/orderflow/orderflow/ordersvc/order"
)

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want order.Sen
		err  error
	}{
		{"RM 99", 9900, nil},
		{"RM 12.50", 1250, nil},
		{"RM12.5", 1250, nil},
		{"12.50", 1250, nil},
		{"12.5", 1250, nil},
		{"0.01", 1, nil},
		{"  7  ", 700, nil},
		{"1000000", order.MaxAmount, nil},
		{"RM 1000000.00", order.MaxAmount, nil},
		{"0001.10", 110, nil},
		{"1000000.01", 0, ErrAmountTooLarge},
		{"99999999999999999999", 0, ErrAmountTooLarge},
		{"0", 0, ErrAmountNotPos},
		{"RM 0.00", 0, ErrAmountNotPos},
		{"12.345", 0, ErrAmountFormat},
		{"-5", 0, ErrAmountFormat},
		{"1e3", 0, ErrAmountFormat},
		{"12,50", 0, ErrAmountFormat},
		{"USD 5", 0, ErrAmountFormat},
		{"rm 5", 0, ErrAmountFormat},
		{"RM  5", 0, ErrAmountFormat},
		{"", 0, ErrAmountFormat},
		{".5", 0, ErrAmountFormat},
		{"5.", 0, ErrAmountFormat},
	} {
		have, err := ParseAmount(tc.in)
		if have != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("ParseAmount(%q): want %d, %v; have %d, %v", tc.in, tc.want, tc.err, have, err)
		}
	}
}

func TestFormatAmount(t *testing.T) {
	for _, tc := range []struct {
		in   order.Sen
		want string
	}{
		{9900, "RM 99.00"},
		{1250, "RM 12.50"},
		{1, "RM 0.01"},
		{order.MaxAmount, "RM 1000000.00"},
		{-150, "-RM 1.50"},
	} {
		if have := FormatAmount(tc.in); have != tc.want {
			t.Errorf("%d: want %q, have %q", int64(tc.in), tc.want, have)
		}
	}
}
