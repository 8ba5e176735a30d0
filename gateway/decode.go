package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/ordersvc/orderapi"
	"github.com/orderflow/orderflow/transport/httperr"
)

// MaxBodyBytes is the largest request body the gateway reads.
const MaxBodyBytes = 16 << 10

// Errors of request bodies, before any field is looked at.
var (
	errNotJSON      = httperr.New(http.StatusUnsupportedMediaType, "unsupported_media_type", "Send the body as JSON, with Content-Type: application/json.")
	errTooLarge     = httperr.New(http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("The body is larger than %d bytes.", MaxBodyBytes))
	errEmptyBody    = httperr.New(http.StatusBadRequest, "invalid_json", "The body is empty; send a JSON object.")
	errInvalidJSON  = httperr.New(http.StatusBadRequest, "invalid_json", "The body is not valid JSON.")
	errNotAnObject  = httperr.New(http.StatusBadRequest, "invalid_json", "The body must be a single JSON object.")
	errUnreadable   = httperr.New(http.StatusBadRequest, "invalid_body", "The body could not be read.")
	errEncoded      = httperr.New(http.StatusUnsupportedMediaType, "unsupported_encoding", "Send the body as it is, without Content-Encoding.")
	msgRequired     = "is required"
	msgIDFormat     = "must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -"
	msgKeyFormat    = "must be 1 to 255 printable ASCII characters"
	msgOrderID      = "must be 24 hexadecimal characters"
	msgSettable     = "must be Cancelled or Confirmed"
	msgNotString    = "must be a string"
	msgUnknownField = "is not a field of this request"
	msgRepeated     = "is given more than once"
	msgNotUTF8      = "must be valid UTF-8"
)

// readJSONBody checks that r carries JSON and returns its body, at most
// MaxBodyBytes of it.
func readJSONBody(r *http.Request) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, errNotJSON
	}
	for _, ce := range r.Header.Values("Content-Encoding") {
		if !strings.EqualFold(strings.TrimSpace(ce), "identity") {
			return nil, errEncoded
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, errTooLarge
	case err != nil:
		return nil, errUnreadable
	}
	return body, nil
}

// decodeObject reads body, a single JSON object, into the raw values of
// fields, by exact key: encoding/json would match "USERID" to userId and let
// a repeated key win silently. It returns the field errors of keys not in
// fields or given twice, for the caller to add its own to.
func decodeObject(body []byte, fields map[string]*json.RawMessage) (map[string]string, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errEmptyBody
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil {
		return nil, errInvalidJSON
	} else if tok != json.Delim('{') {
		return nil, errNotAnObject
	}
	bad, seen := map[string]string{}, map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		key, isKey := tok.(string)
		var raw json.RawMessage
		if err != nil || !isKey || dec.Decode(&raw) != nil {
			return nil, errInvalidJSON
		}
		dst, known := fields[key]
		switch {
		case !known:
			bad[key] = msgUnknownField
		case seen[key]:
			bad[key] = msgRepeated
		default:
			*dst = raw
		}
		seen[key] = true
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, errInvalidJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errNotAnObject
	}
	return bad, nil
}

// stringField reads a required JSON string, recording what is wrong with it.
func stringField(raw json.RawMessage, name string, fields map[string]string) string {
	if len(raw) == 0 || string(raw) == "null" {
		fields[name] = msgRequired
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		fields[name] = msgNotString
		return ""
	}
	// encoding/json turns invalid UTF-8, and escaped lone surrogates, into
	// U+FFFD: a U+FFFD the client did not send is text it did not mean.
	if !utf8.Valid(raw) || strings.Count(s, "\uFFFD") > literalReplacements(raw) {
		fields[name] = msgNotUTF8
		return ""
	}
	return s
}

// literalReplacements counts the U+FFFD a JSON string token spells out: as
// the character itself, or escaped.
func literalReplacements(raw json.RawMessage) int {
	lower := strings.ToLower(string(raw))
	return strings.Count(lower, "\uFFFD") + strings.Count(lower, `\ufffd`)
}

// amountField reads totalOrderAmount: a string such as "RM 12.50" or a JSON
// number, at most two decimals.
func amountField(raw json.RawMessage, fields map[string]string) order.Sen {
	const name = "totalOrderAmount"
	text := strings.TrimSpace(string(raw))
	var err error
	switch {
	case text == "" || text == "null":
		fields[name] = msgRequired
		return 0
	case text[0] == '"':
		if err = json.Unmarshal(raw, &text); err != nil {
			fields[name] = msgNotString
			return 0
		}
	case text[0] == '-':
		fields[name] = ErrAmountNotPos.Error()
		return 0
	case text[0] < '0' || text[0] > '9':
		fields[name] = ErrAmountFormat.Error()
		return 0
	}
	amount, err := ParseAmount(text)
	if err != nil {
		fields[name] = err.Error()
	}
	return amount
}

// ParseCreateOrder turns the body of POST /orders and its Idempotency-Key
// header (hasKey false when absent) into a valid NewOrder, or an *httperr.Error
// that says what is wrong, field by field.
func ParseCreateOrder(body []byte, key string, hasKey bool) (order.NewOrder, error) {
	// orderStatus and createdAt are sent by the original system's clients;
	// the server owns both, so they are read and dropped.
	var userID, productID, productName, amount, ignored json.RawMessage
	fields, err := decodeObject(body, map[string]*json.RawMessage{
		"userId": &userID, "productId": &productID, "productName": &productName,
		"totalOrderAmount": &amount, "orderStatus": &ignored, "createdAt": &ignored,
	})
	if err != nil {
		return order.NewOrder{}, err
	}
	n := order.NewOrder{
		UserID:         stringField(userID, "userId", fields),
		ProductID:      stringField(productID, "productId", fields),
		ProductName:    strings.TrimSpace(stringField(productName, "productName", fields)),
		Amount:         amountField(amount, fields),
		IdempotencyKey: key,
	}
	checkID(n.UserID, "userId", fields)
	checkID(n.ProductID, "productId", fields)
	if _, bad := fields["productName"]; !bad {
		if msg := productNameMessages[order.CheckProductName(n.ProductName)]; msg != "" {
			fields["productName"] = msg
		}
	}
	if hasKey && !order.ValidIdempotencyKey(key) {
		fields["Idempotency-Key"] = msgKeyFormat
	}
	if len(fields) > 0 {
		return order.NewOrder{}, httperr.Invalid(fields)
	}
	return n, nil
}

// checkID records what is wrong with the id v of the field name, unless
// something is already.
func checkID(v, name string, fields map[string]string) {
	if _, bad := fields[name]; bad {
		return
	}
	switch {
	case v == "":
		fields[name] = msgRequired
	case !order.ValidUserID(v):
		fields[name] = msgIDFormat
	}
}

// productNameMessages say what is wrong with a trimmed product name.
var productNameMessages = map[error]string{
	order.ErrNameEmpty:   msgRequired,
	order.ErrNameNotUTF8: "must be valid UTF-8",
	order.ErrNameTooLong: fmt.Sprintf("must be at most %d characters", order.MaxProductName),
	order.ErrNameControl: "must not contain control characters",
}

// ParseSetStatus turns the body of PUT /orders into an order id and status.
func ParseSetStatus(body []byte) (orderapi.SetStatusRequest, error) {
	var orderID, status json.RawMessage
	fields, err := decodeObject(body, map[string]*json.RawMessage{"orderId": &orderID, "orderStatus": &status})
	if err != nil {
		return orderapi.SetStatusRequest{}, err
	}
	req := orderapi.SetStatusRequest{
		ID:     stringField(orderID, "orderId", fields),
		Status: order.Status(stringField(status, "orderStatus", fields)),
	}
	if _, bad := fields["orderId"]; !bad && !order.ValidOrderID(req.ID) {
		fields["orderId"] = msgOrderID
	}
	if _, bad := fields["orderStatus"]; !bad && req.Status != order.Cancelled && req.Status != order.Confirmed {
		fields["orderStatus"] = msgSettable
	}
	if len(fields) > 0 {
		return orderapi.SetStatusRequest{}, httperr.Invalid(fields)
	}
	return req, nil
}
