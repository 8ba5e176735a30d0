package ordersvc

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NewOrder is what a client asks to order.
type NewOrder struct {
	UserID      string
	ProductID   string
	ProductName string
	Amount      Sen
	// IdempotencyKey, optional, makes retries of the request safe: a second
	// request from the same user with the same key returns the first order.
	IdempotencyKey string
}

var (
	idPattern       = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	orderIDPattern  = regexp.MustCompile(`^[0-9a-f]{24}$`)
	idempotencyChar = regexp.MustCompile(`^[\x20-\x7e]{1,255}$`)
)

// Messages of field validation; each completes the sentence "<field> ...".
const (
	msgRequired = "is required"
	msgIDFormat = "must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -"
)

// ValidUserID reports whether s can be a userId (or a productId).
func ValidUserID(s string) bool { return idPattern.MatchString(s) }

// ValidOrderID reports whether s is the text of an order id: a 24-hex
// MongoDB ObjectID in lower case.
func ValidOrderID(s string) bool { return orderIDPattern.MatchString(s) }

// ValidIdempotencyKey reports whether s is 1 to 255 printable ASCII characters.
func ValidIdempotencyKey(s string) bool { return idempotencyChar.MatchString(s) }

// NormalizeProductName trims a product name and reports what is wrong with
// it, if anything.
func NormalizeProductName(s string) (string, string) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return s, msgRequired
	case !utf8.ValidString(s):
		return s, "must be valid UTF-8"
	case utf8.RuneCountInString(s) > 200:
		return s, "must be at most 200 characters"
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return s, "must not contain control characters"
	}
	return s, ""
}

// Validate returns what is wrong with n, field by field, under the public
// API's field names; nil when nothing is.
func (n NewOrder) Validate() map[string]string {
	fields := map[string]string{}
	check := func(name, v string) {
		switch {
		case v == "":
			fields[name] = msgRequired
		case !idPattern.MatchString(v):
			fields[name] = msgIDFormat
		}
	}
	check("userId", n.UserID)
	check("productId", n.ProductID)
	if name, msg := NormalizeProductName(n.ProductName); msg != "" {
		fields["productName"] = msg
	} else if name != n.ProductName {
		fields["productName"] = "must not start or end with spaces"
	}
	switch {
	case n.Amount <= 0:
		fields["totalOrderAmount"] = ErrAmountNotPos.Error()
	case n.Amount > MaxAmount:
		fields["totalOrderAmount"] = ErrAmountTooLarge.Error()
	}
	if n.IdempotencyKey != "" && !ValidIdempotencyKey(n.IdempotencyKey) {
		fields["Idempotency-Key"] = "must be 1 to 255 printable ASCII characters"
	}
	if len(fields) == 0 {
		return nil
	}
	return fields
}
