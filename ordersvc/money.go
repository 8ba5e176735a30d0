package ordersvc

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Sen is an amount of Malaysian ringgit in sen (RM 1 = 100 sen). Amounts are
// integers end to end; only the edges parse and print "RM 12.50".
type Sen int64

// Currency is the ISO 4217 code of every amount here.
const Currency = "MYR"

// MaxAmount is the largest amount an order may have: RM 1,000,000.
const MaxAmount Sen = 1_000_000_00

// Amount errors. Their text completes the sentence "totalOrderAmount ...".
var (
	ErrAmountFormat   = errors.New(`must be an amount such as "RM 12.50", "12.50" or 12.5, with at most 2 decimals`)
	ErrAmountNotPos   = errors.New("must be more than 0")
	ErrAmountTooLarge = errors.New("must be at most RM 1000000.00")
)

var amountPattern = regexp.MustCompile(`^(?:RM ?)?([0-9]+)(?:\.([0-9]{1,2}))?$`)

// ParseAmount parses "RM 99", "RM 12.50", "12.50" or "12.5" into sen.
func ParseAmount(s string) (Sen, error) {
	m := amountPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, ErrAmountFormat
	}
	whole := strings.TrimLeft(m[1], "0")
	if len(whole) > 7 { // also keeps ParseInt away from overflow
		return 0, ErrAmountTooLarge
	}
	var ringgit int64
	if whole != "" {
		ringgit, _ = strconv.ParseInt(whole, 10, 64)
	}
	frac := (m[2] + "00")[:2]
	sen, _ := strconv.ParseInt(frac, 10, 64)
	amount := Sen(ringgit*100 + sen)
	switch {
	case amount <= 0:
		return 0, ErrAmountNotPos
	case amount > MaxAmount:
		return 0, ErrAmountTooLarge
	}
	return amount, nil
}

// String formats the amount as the public API shows it: "RM 12.50".
func (s Sen) String() string {
	sign := ""
	if s < 0 {
		sign, s = "-", -s
	}
	return fmt.Sprintf("%sRM %d.%02d", sign, s/100, s%100)
}
