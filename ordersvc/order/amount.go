package order

import "errors"

// Sen is an amount of Malaysian ringgit in sen (RM 1 = 100 sen). Amounts are
// integers end to end; how they are written ("RM 12.50") is the business of
// the edges.
type Sen int64

// Currency is the ISO 4217 code of every amount here.
const Currency = "MYR"

// MaxAmount is the largest amount an order may have: RM 1,000,000.
const MaxAmount Sen = 1_000_000_00

// Amount errors.
var (
	ErrAmountNotPositive = errors.New("amount is not more than 0")
	ErrAmountTooLarge    = errors.New("amount is more than MaxAmount")
)

// CheckAmount returns what is wrong with an order's amount, if anything.
func CheckAmount(a Sen) error {
	switch {
	case a <= 0:
		return ErrAmountNotPositive
	case a > MaxAmount:
		return ErrAmountTooLarge
	}
	return nil
}
