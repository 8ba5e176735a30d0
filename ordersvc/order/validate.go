package order

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
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

// ValidUserID reports whether s can be a userId (or a productId): 1 to 64
// characters of A-Z, a-z, 0-9, _ or -.
func ValidUserID(s string) bool { return idPattern.MatchString(s) }

// ValidOrderID reports whether s is the text of an order id: 24
// hexadecimal digits in lower case.
func ValidOrderID(s string) bool { return orderIDPattern.MatchString(s) }

// ValidIdempotencyKey reports whether s is 1 to 255 printable ASCII characters.
func ValidIdempotencyKey(s string) bool { return idempotencyChar.MatchString(s) }

// MaxProductName is the most characters a product name may have.
const MaxProductName = 200

// Product name errors.
var (
	ErrNameEmpty    = errors.New("product name is empty")
	ErrNameNotUTF8  = errors.New("product name is not valid UTF-8")
	ErrNameTooLong  = fmt.Errorf("product name is longer than %d characters", MaxProductName)
	ErrNameControl  = errors.New("product name contains control characters")
	ErrNameUntrimed = errors.New("product name starts or ends with spaces")
)

// CheckProductName returns what is wrong with a product name, if anything.
// A name that is valid once trimmed of spaces is ErrNameUntrimed.
func CheckProductName(s string) error {
	trimmed := strings.TrimSpace(s)
	switch {
	case trimmed == "":
		return ErrNameEmpty
	case !utf8.ValidString(trimmed):
		return ErrNameNotUTF8
	case utf8.RuneCountInString(trimmed) > MaxProductName:
		return ErrNameTooLong
	case strings.IndexFunc(trimmed, unicode.IsControl) >= 0:
		return ErrNameControl
	case trimmed != s:
		return ErrNameUntrimed
	}
	return nil
}

// ValidationError lists the invalid fields of a request, by the names of
// NewOrder's fields.
type ValidationError struct {
	Fields map[string]string
}

func (e *ValidationError) Error() string {
	names := make([]string, 0, len(e.Fields))
	for name, msg := range e.Fields {
		names = append(names, name+" "+msg)
	}
	sort.Strings(names)
	return "invalid order: " + strings.Join(names, "; ")
}

// Validate returns a *ValidationError that says what is wrong with n, field
// by field; nil when nothing is.
func (n NewOrder) Validate() error {
	fields := map[string]string{}
	if !ValidUserID(n.UserID) {
		fields["UserID"] = "is not 1 to 64 characters of A-Z, a-z, 0-9, _ or -"
	}
	if !ValidUserID(n.ProductID) {
		fields["ProductID"] = "is not 1 to 64 characters of A-Z, a-z, 0-9, _ or -"
	}
	if err := CheckProductName(n.ProductName); err != nil {
		fields["ProductName"] = strings.TrimPrefix(err.Error(), "product name ")
	}
	if err := CheckAmount(n.Amount); err != nil {
		fields["Amount"] = strings.TrimPrefix(err.Error(), "amount ")
	}
	if n.IdempotencyKey != "" && !ValidIdempotencyKey(n.IdempotencyKey) {
		fields["IdempotencyKey"] = "is not 1 to 255 printable ASCII characters"
	}
	if len(fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: fields}
}
