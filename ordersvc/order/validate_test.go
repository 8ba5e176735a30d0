package order

import (
	"errors"
	"strings"
	"testing"
)

func TestNewOrderValidate(t *testing.T) {
	valid := NewOrder{UserID: "user-42", ProductID: "1", ProductName: "Keyboard", Amount: 9900}
	for _, tc := range []struct {
		name   string
		change func(*NewOrder)
		want   []string // the invalid fields; none for valid
	}{
		{"a complete order is valid", func(*NewOrder) {}, nil},
		{"ids may use letters, digits, _ and -", func(n *NewOrder) { n.UserID = "A_z-9" }, nil},
		{"a 64-character id is valid", func(n *NewOrder) { n.UserID = strings.Repeat("a", 64) }, nil},
		{"a 65-character id is not", func(n *NewOrder) { n.UserID = strings.Repeat("a", 65) }, []string{"UserID"}},
		{"a missing userId is reported", func(n *NewOrder) { n.UserID = "" }, []string{"UserID"}},
		{"a productId with a space is not valid", func(n *NewOrder) { n.ProductID = "a b" }, []string{"ProductID"}},
		{"a missing productName is reported", func(n *NewOrder) { n.ProductName = "" }, []string{"ProductName"}},
		{"a productName of 200 characters is valid", func(n *NewOrder) { n.ProductName = strings.Repeat("é", 200) }, nil},
		{"a productName of 201 characters is not", func(n *NewOrder) { n.ProductName = strings.Repeat("é", 201) }, []string{"ProductName"}},
		{"a zero amount is not valid", func(n *NewOrder) { n.Amount = 0 }, []string{"Amount"}},
		{"an amount over the maximum is not valid", func(n *NewOrder) { n.Amount = MaxAmount + 1 }, []string{"Amount"}},
		{"an idempotency key with a newline is not valid", func(n *NewOrder) { n.IdempotencyKey = "a\nb" }, []string{"IdempotencyKey"}},
		{"every invalid field is reported at once", func(n *NewOrder) { *n = NewOrder{} }, []string{"UserID", "ProductID", "ProductName", "Amount"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := valid
			tc.change(&n)
			err := n.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("want valid, have %v", err)
				}
				return
			}
			var verr *ValidationError
			if !errors.As(err, &verr) || len(verr.Fields) != len(tc.want) {
				t.Fatalf("want fields %v, have %v", tc.want, err)
			}
			for _, field := range tc.want {
				if verr.Fields[field] == "" {
					t.Errorf("%s is not reported: %v", field, verr.Fields)
				}
			}
		})
	}
}

func TestCheckProductName(t *testing.T) {
	for name, want := range map[string]error{
		"Keyboard":                   nil,
		"":                           ErrNameEmpty,
		"   ":                        ErrNameEmpty,
		"\xff\xfe":                   ErrNameNotUTF8,
		strings.Repeat("é", 201):     ErrNameTooLong,
		"Key\x00board":               ErrNameControl,
		" Keyboard":                  ErrNameUntrimed,
		strings.Repeat("é", 200):     nil,
		"Mechanical keyboard (blue)": nil,
	} {
		if have := CheckProductName(name); have != want {
			t.Errorf("%q: want %v, have %v", name, want, have)
		}
	}
}
