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

// decodeObject decodes body, a single JSON object, into v, whose fields are
// all json.RawMessage so that each can be judged on its own. An unknown
// field is a field error.
func decodeObject(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errEmptyBody
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return httperr.Invalid(map[string]string{name: msgUnknownField})
		case errors.As(err, &typeErr):
			return errNotAnObject
		}
		return errInvalidJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return errNotAnObject
	}
	return nil
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

// createOrderBody is the body of POST /orders, each field kept raw.
type createOrderBody struct {
	UserID           json.RawMessage `json:"userId"`
	ProductID        json.RawMessage `json:"productId"`
	ProductName      json.RawMessage `json:"productName"`
	TotalOrderAmount json.RawMessage `json:"totalOrderAmount"`
	// Sent by the original system's clients; the server owns both.
	OrderStatus json.RawMessage `json:"orderStatus"`
	CreatedAt   json.RawMessage `json:"createdAt"`
}

// ParseCreateOrder turns the body of POST /orders and its Idempotency-Key
// header (hasKey false when absent) into a valid NewOrder, or an *httperr.Error
// that says what is wrong, field by field.
func ParseCreateOrder(body []byte, key string, hasKey bool) (ordersvc.NewOrder, error) {
	var b createOrderBody
	if err := decodeObject(body, &b); err != nil {
		return ordersvc.NewOrder{}, err
	}
	fields := map[string]string{}
	n := ordersvc.NewOrder{
		UserID:         stringField(b.UserID, "userId", fields),
		ProductID:      stringField(b.ProductID, "productId", fields),
		ProductName:    stringField(b.ProductName, "productName", fields),
		Amount:         amountField(b.TotalOrderAmount, fields),
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

// setStatusBody is the body of PUT /orders.
type setStatusBody struct {
	OrderID     json.RawMessage `json:"orderId"`
	OrderStatus json.RawMessage `json:"orderStatus"`
}

// ParseSetStatus turns the body of PUT /orders into an order id and status.
func ParseSetStatus(body []byte) (ordersvc.SetStatusRequest, error) {
	var b setStatusBody
	if err := decodeObject(body, &b); err != nil {
		return ordersvc.SetStatusRequest{}, err
	}
	fields := map[string]string{}
	req := ordersvc.SetStatusRequest{
		ID:     stringField(b.OrderID, "orderId", fields),
		Status: ordersvc.Status(stringField(b.OrderStatus, "orderStatus", fields)),
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
