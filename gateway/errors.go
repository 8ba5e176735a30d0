package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/ordersvc/orderapi"
	"github.com/orderflow/orderflow/transport/httperr"
)

// The public API's answers to the errors of order.Service.
var (
	errNotFound      = httperr.New(http.StatusNotFound, "order_not_found", "No order has this id.")
	errInvalidID     = httperr.New(http.StatusBadRequest, "invalid_order_id", "The order id must be 24 hexadecimal characters.")
	errInvalidUserID = httperr.New(http.StatusBadRequest, "invalid_user_id", "The userId must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -.")
	errInvalidLimit  = httperr.New(http.StatusBadRequest, "invalid_limit", fmt.Sprintf("The limit must be a whole number from 1 to %d.", order.MaxLimit))
	errInvalidCursor = httperr.New(http.StatusBadRequest, "invalid_cursor", "The cursor is not one this API returned.")
	errKeyReused     = httperr.New(http.StatusUnprocessableEntity, "idempotency_key_reused", "This Idempotency-Key was already used by this user with a different request.")
	errConflict      = httperr.New(http.StatusConflict, "concurrent_update", "The order changed while it was being updated; try again.")
	errStore         = httperr.New(http.StatusServiceUnavailable, "store_unavailable", "The order store is unavailable; try again shortly.")
	errUpstream      = httperr.New(http.StatusServiceUnavailable, "upstream_unavailable", "The order service is unavailable; try again shortly.")
	errTimeout       = httperr.New(http.StatusGatewayTimeout, "upstream_timeout", "The order service did not answer in time; try again.")
	errCreateTimeout = httperr.New(http.StatusGatewayTimeout, "upstream_timeout",
		"The order service did not answer in time; the order may have been created. Retrying with the same Idempotency-Key is safe: it returns that order rather than making another.")
)

// publicFields are the public names of NewOrder's fields.
var publicFields = map[string]string{
	"UserID": "userId", "ProductID": "productId", "ProductName": "productName",
	"Amount": "totalOrderAmount", "IdempotencyKey": "Idempotency-Key",
}

// errorToHTTP maps what a call of ordersvc returned to what the public
// client sees. The gateway's own request errors are *httperr.Error already
// and pass through; ordersvc's answers are mapped by their meaning, never
// passed on as ordersvc wrote them.
func errorToHTTP(err error) *httperr.Error {
	var (
		verr *order.ValidationError
		terr *order.TransitionError
		herr *httperr.Error
		uerr *url.Error
	)
	switch {
	case errors.As(err, &verr):
		fields := map[string]string{}
		for name, msg := range verr.Fields {
			if public, ok := publicFields[name]; ok {
				name = public
			}
			fields[name] = msg
		}
		return httperr.Invalid(fields)
	case errors.As(err, &terr):
		return httperr.New(http.StatusConflict, "transition_not_allowed", transitionMessage(terr))
	case errors.Is(err, order.ErrStatusNotSettable):
		return httperr.Invalid(map[string]string{"orderStatus": msgSettable})
	case errors.Is(err, order.ErrNotFound):
		return errNotFound
	case errors.Is(err, order.ErrInvalidID):
		return errInvalidID
	case errors.Is(err, order.ErrInvalidUserID):
		return errInvalidUserID
	case errors.Is(err, order.ErrInvalidLimit):
		return errInvalidLimit
	case errors.Is(err, order.ErrInvalidCursor):
		return errInvalidCursor
	case errors.Is(err, order.ErrIdempotencyKeyReused):
		return errKeyReused
	case errors.Is(err, order.ErrConflict):
		return errConflict
	case errors.Is(err, order.ErrUnavailable):
		return errStore
	case errors.Is(err, orderapi.ErrCircuitOpen):
		return errUpstream
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &uerr) && uerr.Timeout():
		return errTimeout
	case errors.As(err, &uerr):
		return errUpstream
	case errors.Is(err, orderapi.ErrOverloaded):
		return httperr.Overloaded
	case errors.As(err, &herr):
		return herr // the gateway's own answer to a bad request
	}
	return nil // a 500 that says nothing: an *orderapi.AnswerError, say
}

// createErrorToHTTP is errorToHTTP for POST /orders, whose timeout may
// hide an order that was created: the client is told how to find out.
func createErrorToHTTP(err error) *httperr.Error {
	e := errorToHTTP(err)
	if e == errTimeout {
		return errCreateTimeout
	}
	return e
}

// transitionMessage says why an order cannot take the status asked for.
func transitionMessage(e *order.TransitionError) string {
	if len(e.Allowed) == 0 {
		return fmt.Sprintf("Order is %s, which is final; it cannot become %s.", e.From, e.To)
	}
	names := make([]string, len(e.Allowed))
	for i, s := range e.Allowed {
		names[i] = string(s)
	}
	return fmt.Sprintf("Order is %s; it cannot become %s, only %s.", e.From, e.To, strings.Join(names, " or "))
}
