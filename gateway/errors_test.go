package gateway

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/ordersvc/orderapi"
	"github.com/orderflow/orderflow/transport/httperr"
)

func TestTransitionMessagesNameCurrentAndAllowedStatuses(t *testing.T) {
	for _, tc := range []struct {
		err  *order.TransitionError
		want string
	}{
		{&order.TransitionError{From: order.Processing, To: order.Confirmed, Allowed: []order.Status{order.Cancelled}},
			"Order is Processing; it cannot become Confirmed, only Cancelled."},
		{&order.TransitionError{From: order.Failed, To: order.Cancelled},
			"Order is Failed, which is final; it cannot become Cancelled."},
	} {
		e := errorToHTTP(tc.err)
		if e.Status != http.StatusConflict || e.Code != "transition_not_allowed" || e.Message != tc.want {
			t.Errorf("want 409 transition_not_allowed %q, have %d %s %q", tc.want, e.Status, e.Code, e.Message)
		}
	}
}

// Nothing ordersvc says of itself reaches a public client: an answer the
// gateway does not know is a 500 that says nothing, and a validation
// error of ordersvc names the public fields.
func TestOrdersvcsOwnWordsDoNotReachTheClient(t *testing.T) {
	unknown := &orderapi.AnswerError{Status: 500, Code: "internal", Message: "dial tcp 10.0.0.7:27017: refused"}
	if e := httperr.From(fmt.Errorf("call: %w", unknown), errorToHTTP); e != httperr.Internal {
		t.Errorf("want the generic 500, have %+v", e)
	}
	badBody := &orderapi.AnswerError{Status: 400, Code: "invalid_body", Message: "The body is not the JSON this endpoint takes."}
	if e := httperr.From(badBody, errorToHTTP); e != httperr.Internal {
		t.Errorf("a request the gateway should not have made is its own fault: want the generic 500, have %+v", e)
	}
	e := errorToHTTP(&order.ValidationError{Fields: map[string]string{"Amount": "is not more than 0", "IdempotencyKey": "is too long"}})
	if e.Status != http.StatusBadRequest || e.Fields["totalOrderAmount"] == "" || e.Fields["Idempotency-Key"] == "" {
		t.Errorf("want a 400 naming totalOrderAmount and Idempotency-Key, have %+v", e)
	}
	if e := errorToHTTP(orderapi.ErrOverloaded); e.Status != http.StatusServiceUnavailable || e.RetryAfter < 1 {
		t.Errorf("want 503 with Retry-After, have %+v", e)
	}
	if e := errorToHTTP(orderapi.ErrCircuitOpen); e.Status != http.StatusServiceUnavailable || e.Code != "upstream_unavailable" {
		t.Errorf("want 503 upstream_unavailable, have %+v", e)
	}
	if e := createErrorToHTTP(fmt.Errorf("call: %w", context.DeadlineExceeded)); e != errCreateTimeout {
		t.Errorf("a timed-out create says a retry is safe: have %+v", e)
	}
}
