package gateway

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/transport/httperr"
)

func TestParseCreateOrder(t *testing.T) {
	for _, tc := range []struct {
		name       string
		body       string
		wantAmount order.Sen
		wantCode   string
		wantFields map[string]string
	}{
		{name: "amount as RM text", body: `{"userId":"u1","productId":"1","productName":"Keyboard","totalOrderAmount":"RM 99"}`, wantAmount: 9900},
		{name: "amount as plain text", body: `{"userId":"u1","productId":"1","productName":"Keyboard","totalOrderAmount":"12.50"}`, wantAmount: 1250},
		{name: "amount as a JSON number", body: `{"userId":"u1","productId":"1","productName":"Keyboard","totalOrderAmount":12.5}`, wantAmount: 1250},
		{name: "the original clients' orderStatus and createdAt are ignored", body: `{"userId":"u1","productId":"1","productName":"Keyboard","totalOrderAmount":1,"orderStatus":"Success","createdAt":"2020-01-01"}`, wantAmount: 100},
		{name: "productName is trimmed", body: `{"userId":"u1","productId":"1","productName":"  Keyboard ","totalOrderAmount":1}`, wantAmount: 100},
		{name: "an unknown field is named", body: `{"userId":"u1","productId":"1","productName":"K","totalOrderAmount":1,"discount":5}`,
			wantCode: "validation_failed", wantFields: map[string]string{"discount": msgUnknownField}},
		{name: "every missing field is named", body: `{}`, wantCode: "validation_failed", wantFields: map[string]string{
			"userId": msgRequired, "productId": msgRequired, "productName": msgRequired, "totalOrderAmount": msgRequired}},
		{name: "null counts as missing", body: `{"userId":null,"productId":"1","productName":"K","totalOrderAmount":1}`,
			wantCode: "validation_failed", wantFields: map[string]string{"userId": msgRequired}},
		{name: "a number where a string belongs", body: `{"userId":42,"productId":"1","productName":"K","totalOrderAmount":1}`,
			wantCode: "validation_failed", wantFields: map[string]string{"userId": msgNotString}},
		{name: "a negative amount", body: `{"userId":"u1","productId":"1","productName":"K","totalOrderAmount":-3}`,
			wantCode: "validation_failed", wantFields: map[string]string{"totalOrderAmount": ErrAmountNotPos.Error()}},
		{name: "three decimals", body: `{"userId":"u1","productId":"1","productName":"K","totalOrderAmount":"1.234"}`,
			wantCode: "validation_failed", wantFields: map[string]string{"totalOrderAmount": ErrAmountFormat.Error()}},
		{name: "an exponent", body: `{"userId":"u1","productId":"1","productName":"K","totalOrderAmount":1e3}`,
			wantCode: "validation_failed", wantFields: map[string]string{"totalOrderAmount": ErrAmountFormat.Error()}},
		{name: "a boolean amount", body: `{"userId":"u1","productId":"1","productName":"K","totalOrderAmount":true}`,
			wantCode: "validation_failed", wantFields: map[string]string{"totalOrderAmount": ErrAmountFormat.Error()}},
		{name: "too large", body: `{"userId":"u1","productId":"1","productName":"K","totalOrderAmount":"RM 1000000.01"}`,
			wantCode: "validation_failed", wantFields: map[string]string{"totalOrderAmount": ErrAmountTooLarge.Error()}},
		{name: "a bad userId", body: `{"userId":"u 1","productId":"1","productName":"K","totalOrderAmount":1}`,
			wantCode: "validation_failed", wantFields: map[string]string{"userId": "must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -"}},
		{name: "keys match exactly, not ignoring case", body: `{"USERID":"u1","productId":"1","productName":"K","totalOrderAmount":1}`,
			wantCode: "validation_failed", wantFields: map[string]string{"USERID": msgUnknownField, "userId": msgRequired}},
		{name: "a key given twice", body: `{"userId":"u1","userId":"u2","productId":"1","productName":"K","totalOrderAmount":1}`,
			wantCode: "validation_failed", wantFields: map[string]string{"userId": "is given more than once"}},
		{name: "an empty body", body: ``, wantCode: "invalid_json"},
		{name: "broken JSON", body: `{"userId":`, wantCode: "invalid_json"},
		{name: "an array", body: `[1,2]`, wantCode: "invalid_json"},
		{name: "two objects", body: `{} {}`, wantCode: "invalid_json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := ParseCreateOrder([]byte(tc.body), "", false)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("want a valid order, have %v", err)
				}
				if n.Amount != tc.wantAmount || n.ProductName != strings.TrimSpace(n.ProductName) {
					t.Errorf("want amount %d, have %+v", tc.wantAmount, n)
				}
				return
			}
			var e *httperr.Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Code != tc.wantCode {
				t.Fatalf("want 400 %s, have %v", tc.wantCode, err)
			}
			if len(e.Fields) != len(tc.wantFields) {
				t.Fatalf("want fields %v, have %v", tc.wantFields, e.Fields)
			}
			for f, msg := range tc.wantFields {
				if e.Fields[f] != msg {
					t.Errorf("%s: want %q, have %q", f, msg, e.Fields[f])
				}
			}
		})
	}
}

func TestParseCreateOrderChecksTheIdempotencyKey(t *testing.T) {
	body := []byte(`{"userId":"u1","productId":"1","productName":"K","totalOrderAmount":1}`)
	for _, tc := range []struct {
		key    string
		hasKey bool
		valid  bool
	}{
		{"", false, true},
		{"abc-123", true, true},
		{strings.Repeat("k", 255), true, true},
		{strings.Repeat("k", 256), true, false},
		{"", true, false},
		{"tab\there", true, false},
	} {
		_, err := ParseCreateOrder(body, tc.key, tc.hasKey)
		if (err == nil) != tc.valid {
			t.Errorf("key %q (present %v): want valid=%v, have %v", tc.key, tc.hasKey, tc.valid, err)
		}
	}
}

func TestParseSetStatus(t *testing.T) {
	const id = "6b06dc7bd1137d4b336e0c48"
	for _, tc := range []struct {
		body       string
		wantFields map[string]string
	}{
		{`{"orderId":"` + id + `","orderStatus":"Cancelled"}`, nil},
		{`{"orderId":"` + id + `","orderStatus":"Confirmed"}`, nil},
		{`{"orderId":"` + id + `","orderStatus":"Success"}`, map[string]string{"orderStatus": "must be Cancelled or Confirmed"}},
		{`{"orderId":"nope","orderStatus":"Cancelled"}`, map[string]string{"orderId": "must be 24 hexadecimal characters"}},
		{`{}`, map[string]string{"orderId": msgRequired, "orderStatus": msgRequired}},
		{`{"orderId":"` + id + `","orderStatus":"Cancelled","why":"x"}`, map[string]string{"why": msgUnknownField}},
	} {
		_, err := ParseSetStatus([]byte(tc.body))
		var e *httperr.Error
		if tc.wantFields == nil {
			if err != nil {
				t.Errorf("%s: want valid, have %v", tc.body, err)
			}
			continue
		}
		if !errors.As(err, &e) || len(e.Fields) != len(tc.wantFields) {
			t.Errorf("%s: want fields %v, have %v", tc.body, tc.wantFields, err)
			continue
		}
		for f, msg := range tc.wantFields {
			if e.Fields[f] != msg {
				t.Errorf("%s: %s: want %q, have %q", tc.body, f, msg, e.Fields[f])
			}
		}
	}
}

// FuzzParseCreateOrder checks that the decoder never panics and never lets
// through an order that validation rejects.
func FuzzParseCreateOrder(f *testing.F) {
	for _, seed := range []string{
		`{"userId":"u1","productId":"1","productName":"Keyboard","totalOrderAmount":"RM 99"}`,
		`{"userId":"u1","productId":"1","productName":" K ","totalOrderAmount":12.5,"orderStatus":"x"}`,
		`{"userId":"u1","productId":"1","productName":"K","totalOrderAmount":"1000000.00"}`,
		`{"userId":"","totalOrderAmount":-1}`,
		`[]`, `null`, `{"a":1}`, `{"productName":"\u0000"}`,
	} {
		f.Add([]byte(seed), "key")
	}
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		n, err := ParseCreateOrder(body, key, key != "")
		if err != nil {
			var e *httperr.Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
				t.Fatalf("want a 400 *httperr.Error, have %#v", err)
			}
			return
		}
		if err := n.Validate(); err != nil {
			t.Fatalf("accepted %+v, which ordersvc rejects: %v", n, err)
		}
		if n.Amount <= 0 || n.Amount > order.MaxAmount {
			t.Fatalf("accepted amount %d", n.Amount)
		}
	})
}
