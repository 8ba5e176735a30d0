package gateway

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/orderflow/orderflow/ordersvc/order"
)

// Amount errors of the public API. Their text completes the sentence
// "totalOrderAmount ...".
var (
	ErrAmountFormat   = errors.New(`must be an amount such as "RM 12.50", "12.50" or 12.5, with at most 2 decimals`)
	ErrAmountNotPos   = errors.New("must be more than 0")
	ErrAmountTooLarge = fmt.Errorf("must be at most %s", FormatAmount(order.MaxAmount))
)

var amountPattern = regexp.MustCompile(`^(?:RM ?)?([0-9]+)(?:\.([0-9]{1,2}))?$`)

// ParseAmount parses "RM 99", "RM 12.50", "12.50" or "12.5" into sen.
func ParseAmount(s string) (order.Sen, error) {
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
	amount := order.Sen(ringgit*100 + sen)
	switch err := order.CheckAmount(amount); {
	case errors.Is(err, order.ErrAmountNotPositive):
		return 0, ErrAmountNotPos
	case errors.Is(err, order.ErrAmountTooLarge):
		return 0, ErrAmountTooLarge
	}
	return amount, nil
}

// FormatAmount writes an amount as the public API shows it: "RM 12.50".
func FormatAmount(s order.Sen) string {
	sign := ""
	if s < 0 {
		sign, s = "-", -s
	}
	return fmt.Sprintf("%sRM %d.%02d", sign, s/100, s%100)
}
