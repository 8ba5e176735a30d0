// Package httperr is the one error shape every HTTP service here speaks:
//
//	{"ok":false,"error":{"code":"snake_case","message":"A sentence.","fields":{"userId":"is required"}}}
//
// Servers encode errors with it and clients decode them back into *Error, so a
// 404 or 409 decided by ordersvc reaches the gateway's client unchanged.
package httperr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/transport"
	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/internal/correlation"
	"github.com/orderflow/orderflow/internal/telemetry"
)

// Error is an error with an HTTP status, a machine-readable code and a
// message fit for a client.
type Error struct {
	Status  int
	Code    string
	Message string
	Fields  map[string]string
	// RetryAfter, when positive, is the Retry-After header in seconds.
	RetryAfter int
	// Header holds more headers of the answer, such as WWW-Authenticate.
	Header http.Header
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	return fmt.Sprintf("%s %v", e.Message, e.Fields)
}

// New returns an Error.
func New(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// Invalid returns the 400 of a request whose fields failed validation.
func Invalid(fields map[string]string) *Error {
	return &Error{
		Status:  http.StatusBadRequest,
		Code:    "validation_failed",
		Message: "One or more fields are invalid.",
		Fields:  fields,
	}
}

// Internal is what a client sees of an error nobody mapped: nothing of it.
var Internal = New(http.StatusInternalServerError, "internal", "Something went wrong on our side.")

// Mapper maps an error to the Error a client should see, or nil when it does
// not know the error.
type Mapper func(error) *Error

// EncodeError returns a go-kit ServerErrorEncoder that writes err as mapped by
// m; an *Error passes through and anything unknown is a 500 with no details.
func EncodeError(m Mapper) func(context.Context, error, http.ResponseWriter) {
	return func(_ context.Context, err error, w http.ResponseWriter) {
		Write(w, From(err, m))
	}
}

// Failures lets the business error of a response (an endpoint.Failer) take
// the error path of a go-kit server, so that every error a client gets is
// encoded, and logged when it is the server's, in one place.
func Failures(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		resp, err := next(ctx, request)
		if f, ok := resp.(endpoint.Failer); ok && err == nil && f.Failed() != nil {
			return nil, f.Failed()
		}
		return resp, err
	}
}

// LogServerErrors returns a go-kit ErrorHandler that logs the errors that
// m maps to a 5xx (or does not know): those are the operator's to act on;
// a client's mistakes are not.
func LogServerErrors(logger log.Logger, m Mapper) transport.ErrorHandler {
	return transport.ErrorHandlerFunc(func(ctx context.Context, err error) {
		if e := From(err, m); e.Status >= 500 {
			logger.Log(append([]any{"msg", "request failed", "status", e.Status, "correlation_id", correlation.FromContext(ctx), "err", err}, telemetry.LogKeys(ctx)...)...)
		}
	})
}

// From returns the Error for err: err itself when it is one, else what m
// says, else Internal.
func From(err error, m Mapper) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if m != nil {
		if e := m(err); e != nil {
			return e
		}
	}
	return Internal
}

type body struct {
	OK    bool      `json:"ok"`
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// Write writes e in the error shape.
func Write(w http.ResponseWriter, e *Error) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	for name, values := range e.Header {
		w.Header()[name] = values
	}
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(body{Error: errorBody{Code: e.Code, Message: e.Message, Fields: e.Fields}})
}

// Decode reads an error response back into an *Error. A body that is not in
// the error shape becomes an Error with the response's status and a generic
// code, so nothing of it leaks further.
func Decode(resp *http.Response) *Error {
	var b body
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&b); err != nil || b.Error.Code == "" {
		return New(resp.StatusCode, "upstream_error", "An upstream service failed.")
	}
	retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	return &Error{Status: resp.StatusCode, Code: b.Error.Code, Message: b.Error.Message, Fields: b.Error.Fields, RetryAfter: max(retry, 0)}
}

// Overloaded is the answer to a request beyond what a server admits at once.
var Overloaded = &Error{
	Status: http.StatusServiceUnavailable, Code: "overloaded", RetryAfter: 1,
	Message: "The service is at capacity; nothing was done: retry in a second.",
}

// LimitInFlight serves at most max requests of next at once; up to queue
// more wait for their turn, in the order they came, and the others are
// answered at once with Overloaded, before they do anything. Work in hand
// finishes first: under a flood, the requests admitted finish in their time
// instead of all timing out.
func LimitInFlight(max, queue int, next http.Handler) http.Handler {
	slots := make(chan struct{}, max)
	admitted := make(chan struct{}, max+queue)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case admitted <- struct{}{}:
		default:
			Write(w, Overloaded)
			return
		}
		defer func() { <-admitted }()
		select {
		case slots <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		defer func() { <-slots }()
		next.ServeHTTP(w, r)
	})
}

// NotFound answers unknown routes.
func NotFound(w http.ResponseWriter, r *http.Request) {
	Write(w, New(http.StatusNotFound, "route_not_found", fmt.Sprintf("No route for %s %s.", quote(r.Method), quote(r.URL.Path))))
}

// quoteMax is the most of a request's own text a message repeats.
const quoteMax = 64

// quote returns s, or its first quoteMax bytes (cut at a character) and an
// ellipsis: a message names what was asked for without repeating a
// client's 8 KiB back to it.
func quote(s string) string {
	if len(s) <= quoteMax {
		return s
	}
	cut := quoteMax
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// MethodNotAllowed returns a handler answering 405 for a route that exists
// with other methods.
func MethodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		Write(w, New(http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s is not allowed here; use %s.", quote(r.Method), allow)))
	})
}
