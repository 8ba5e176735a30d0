package orderapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/transport/httperr"
)

// The errors of order.Service by their code on the internal API. The
// client turns a code back into the same error, so errors.Is works alike on
// both sides of the wire. The messages are for operators reading ordersvc's
// answers; the gateway writes its own for the public.
var sentinels = []struct {
	err    error
	status int
	code   string
}{
	{order.ErrNotFound, http.StatusNotFound, "order_not_found"},
	{order.ErrInvalidID, http.StatusBadRequest, "invalid_order_id"},
	{order.ErrInvalidUserID, http.StatusBadRequest, "invalid_user_id"},
	{order.ErrInvalidLimit, http.StatusBadRequest, "invalid_limit"},
	{order.ErrInvalidCursor, http.StatusBadRequest, "invalid_cursor"},
	{order.ErrStatusNotSettable, http.StatusBadRequest, "status_not_settable"},
	{order.ErrIdempotencyKeyReused, http.StatusUnprocessableEntity, "idempotency_key_reused"},
	{order.ErrConflict, http.StatusConflict, "concurrent_update"},
	{order.ErrUnavailable, http.StatusServiceUnavailable, "store_unavailable"},
}

// Codes of the errors that carry details.
const (
	codeInvalid    = "validation_failed"
	codeTransition = "transition_not_allowed"
)

// ErrorToHTTP maps the errors of order.Service to the internal API's.
func ErrorToHTTP(err error) *httperr.Error {
	var (
		verr *order.ValidationError
		terr *order.TransitionError
	)
	switch {
	case errors.As(err, &verr):
		return &httperr.Error{Status: http.StatusBadRequest, Code: codeInvalid, Message: verr.Error(), Fields: verr.Fields}
	case errors.As(err, &terr):
		allowed := make([]string, len(terr.Allowed))
		for i, s := range terr.Allowed {
			allowed[i] = string(s)
		}
		return &httperr.Error{Status: http.StatusConflict, Code: codeTransition, Message: terr.Error(),
			Fields: map[string]string{"from": string(terr.From), "to": string(terr.To), "allowed": strings.Join(allowed, ",")}}
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return httperr.New(s.status, s.code, s.err.Error())
		}
	}
	return nil
}

// errorFromHTTP turns an error answer of the internal API back into the
// error of order.Service it stands for, or nil when it stands for none.
func errorFromHTTP(e *httperr.Error) error {
	switch e.Code {
	case codeInvalid:
		return &order.ValidationError{Fields: e.Fields}
	case codeTransition:
		terr := &order.TransitionError{From: order.Status(e.Fields["from"]), To: order.Status(e.Fields["to"])}
		for _, s := range strings.Split(e.Fields["allowed"], ",") {
			if s != "" {
				terr.Allowed = append(terr.Allowed, order.Status(s))
			}
		}
		return terr
	}
	for _, s := range sentinels {
		if e.Code == s.code {
			return s.err
		}
	}
	return nil
}
