package ordersvc

import (
	"strings"
	"testing"
)

func TestNewOrderValidate(t *testing.T) {
	valid := NewOrder{UserID: "user-42", ProductID: "1", ProductName: "Keyboard", Amount: 9900}
	for _, tc := range []struct {
		name   string
		change func(*NewOrder)
		want   map[string]string // field -> message; nil for valid
	}{
		{"a complete order is valid", func(*NewOrder) {}, nil},
		{"ids may use letters, digits, _ and -", func(n *NewOrder) { n.UserID = "A_z-9" }, nil},
		{"a 64-character id is valid", func(n *NewOrder) { n.UserID = strings.Repeat("a", 64) }, nil},
		{"a 65-character id is not", func(n *NewOrder) { n.UserID = strings.Repeat("a", 65) }, map[string]string{"userId": msgIDFormat}},
		{"a missing userId is reported", func(n *NewOrder) { n.UserID = "" }, map[string]string{"userId": msgRequired}},
		{"a productId with a space is not valid", func(n *NewOrder) { n.ProductID = "a b" }, map[string]string{"productId": msgIDFormat}},
		{"a missing productName is reported", func(n *NewOrder) { n.ProductName = "" }, map[string]string{"productName": msgRequired}},
		{"a blank productName counts as missing", func(n *NewOrder) { n.ProductName = "   " }, map[string]string{"productName": msgRequired}},
		{"a productName of 200 characters is valid", func(n *NewOrder) { n.ProductName = strings.Repeat("é", 200) }, nil},
		{"a productName of 201 characters is not", func(n *NewOrder) { n.ProductName = strings.Repeat("é", 201) }, map[string]string{"productName": "must be at most 200 characters"}},
		{"a productName with a control character is not valid", func(n *NewOrder) { n.ProductName = "Key\x00board" }, map[string]string{"productName": "must not contain control characters"}},
		{"a zero amount is not valid", func(n *NewOrder) { n.Amount = 0 }, map[string]string{"totalOrderAmount": ErrAmountNotPos.Error()}},
		{"an amount over the maximum is not valid", func(n *NewOrder) { n.Amount = MaxAmount + 1 }, map[string]string{"totalOrderAmount": ErrAmountTooLarge.Error()}},
		{"an idempotency key with a newline is not valid", func(n *NewOrder) { n.IdempotencyKey = "a\nb" }, map[string]string{"Idempotency-Key": "must be 1 to 255 printable ASCII characters"}},
		{"every invalid field is reported at once", func(n *NewOrder) { *n = NewOrder{} }, map[string]string{
			"userId": msgRequired, "productId": msgRequired, "productName": msgRequired, "totalOrderAmount": ErrAmountNotPos.Error(),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := valid
			tc.change(&n)
			have := n.Validate()
			if len(have) != len(tc.want) {
				t.Fatalf("want %v, have %v", tc.want, have)
			}
			for field, msg := range tc.want {
				if have[field] != msg {
					t.Errorf("%s: want %q, have %q", field, msg, have[field])
				}
			}
		})
	}
}
