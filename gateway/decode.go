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

	"github.com/orderflow/orderflow/ordersvc"
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
	msgRequired     = "is required"
	msgNotString    = "must be a string"
	msgUnknownField = "is not a field of this request"
)

// readJSONBody checks that r carries JSON and returns its body, at most
// MaxBodyBytes of it.
func readJSONBody(r *http.Request) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, errNotJSON
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
			bad[key] = "is given more than once"
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
	return s
}

// amountField reads totalOrderAmount: a string such as "RM 12.50" or a JSON
// number, at most two decimals.
func amountField(raw json.RawMessage, fields map[string]string) ordersvc.Sen {
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
		fields[name] = ordersvc.ErrAmountNotPos.Error()
		return 0
	case text[0] < '0' || text[0] > '9':
		fields[name] = ordersvc.ErrAmountFormat.Error()
		return 0
	}
	amount, err := ordersvc.ParseAmount(text)
	if err != nil {
		fields[name] = err.Error()
	}
	return amount
}

// ParseCreateOrder turns the body of POST /orders and its Idempotency-Key
// header (hasKey false when absent) into a valid NewOrder, or an *httperr.Error
// that says what is wrong, field by field.
func ParseCreateOrder(body []byte, key string, hasKey bool) (ordersvc.NewOrder, error) {
	// orderStatus and createdAt are sent by the original system's clients;
	// the server owns both, so they are read and dropped.
	var userID, productID, productName, amount, ignored json.RawMessage
	fields, err := decodeObject(body, map[string]*json.RawMessage{
		"userId": &userID, "productId": &productID, "productName": &productName,
		"totalOrderAmount": &amount, "orderStatus": &ignored, "createdAt": &ignored,
	})
	if err != nil {
		return ordersvc.NewOrder{}, err
	}
	n := ordersvc.NewOrder{
		UserID:         stringField(userID, "userId", fields),
		ProductID:      stringField(productID, "productId", fields),
		ProductName:    stringField(productName, "productName", fields),
		Amount:         amountField(amount, fields),
		IdempotencyKey: key,
	}
	if _, bad := fields["productName"]; !bad {
		var msg string
		if n.ProductName, msg = ordersvc.NormalizeProductName(n.ProductName); msg != "" {
			fields["productName"] = msg
		}
	}
	if hasKey && key == "" {
		fields["Idempotency-Key"] = "must be 1 to 255 printable ASCII characters"
	}
	for name, msg := range n.Validate() {
		if _, seen := fields[name]; !seen {
			fields[name] = msg
		}
	}
	if len(fields) > 0 {
		return ordersvc.NewOrder{}, httperr.Invalid(fields)
	}
	return n, nil
}

// ParseSetStatus turns the body of PUT /orders into an order id and status.
func ParseSetStatus(body []byte) (ordersvc.SetStatusRequest, error) {
	var orderID, status json.RawMessage
	fields, err := decodeObject(body, map[string]*json.RawMessage{"orderId": &orderID, "orderStatus": &status})
	if err != nil {
		return ordersvc.SetStatusRequest{}, err
	}
	req := ordersvc.SetStatusRequest{
		ID:     stringField(orderID, "orderId", fields),
		Status: ordersvc.Status(stringField(status, "orderStatus", fields)),
	}
	if _, bad := fields["orderId"]; !bad && !ordersvc.ValidOrderID(req.ID) {
		fields["orderId"] = "must be 24 hexadecimal characters"
	}
	if _, bad := fields["orderStatus"]; !bad && req.Status != ordersvc.Cancelled && req.Status != ordersvc.Confirmed {
		fields["orderStatus"] = "must be Cancelled or Confirmed"
	}
	if len(fields) > 0 {
		return ordersvc.SetStatusRequest{}, httperr.Invalid(fields)
	}
	return req, nil
}
