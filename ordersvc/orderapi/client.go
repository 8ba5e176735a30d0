package orderapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/kit/endpoint"
	httptransport "github.com/go-kit/kit/transport/http"
	"github.com/sony/gobreaker"

	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/transport/correlationhttp"
	"github.com/orderflow/orderflow/transport/httperr"
)

// ErrOverloaded is the answer of an ordersvc at capacity: it did nothing,
// and a retry in a second may find room.
var ErrOverloaded = errors.New("ordersvc is at capacity")

// AnswerError is an error answer of ordersvc that is no error of
// order.Service: a request this client should not have made (4xx), or a
// failure of ordersvc (5xx).
type AnswerError struct {
	Status        int
	Code, Message string
}

func (e *AnswerError) Error() string {
	return fmt.Sprintf("ordersvc answered %d %s: %s", e.Status, e.Code, e.Message)
}

// ErrCircuitOpen is the error of a call the client did not make: ordersvc
// failed the calls before it, and is given time before it is tried again.
var ErrCircuitOpen = errors.New("ordersvc is failing: calls are held back for a moment")

// Circuit breaker: after breakerTrips failures in a row (ordersvc
// unreachable, timing out or failing with a 5xx that is no error of
// order.Service), calls fail at once with ErrCircuitOpen for breakerOpen;
// then one call is let through, and its success closes the circuit again.
const (
	breakerTrips = 5
	breakerOpen  = time.Second
)

// NewHTTPClient returns the endpoints of the internal API at baseURL (such
// as "http://ordersvc:7001"), behind one circuit breaker. Errors of
// order.Service come back as the same errors (errors.Is(err,
// order.ErrNotFound) holds), in the response; as the endpoint's error come
// ErrOverloaded, any other error answer as an *AnswerError, failures to
// reach ordersvc as the HTTP client's errors, and ErrCircuitOpen.
//
// token, unless empty, is presented to an ordersvc that requires it (see
// RequireToken).
func NewHTTPClient(baseURL string, client *http.Client, token string) (Endpoints, error) {
	u, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Endpoints{}, fmt.Errorf("ordersvc URL %q: want http://host:port", baseURL)
	}
	opts := []httptransport.ClientOption{
		httptransport.SetClient(client),
		httptransport.ClientBefore(correlationhttp.ToHTTPRequest),
	}
	if token != "" {
		opts = append(opts, httptransport.ClientBefore(httptransport.SetRequestHeader("Authorization", "Bearer "+token)))
	}
	breaker := breakerMiddleware(gobreaker.NewCircuitBreaker(gobreaker.Settings{
		Name:        "ordersvc",
		Timeout:     breakerOpen,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= breakerTrips },
		IsSuccessful: func(err error) bool {
			// ordersvc answered: the request was at fault, or ordersvc
			// shed it at once; or the caller gave up on it.
			var e *AnswerError
			return err == nil || errors.As(err, &e) && e.Status < 500 ||
				errors.Is(err, ErrOverloaded) || errors.Is(err, context.Canceled)
		},
	}))
	return Endpoints{
		CreateOrderEndpoint: breaker(httptransport.NewClient(http.MethodPost, u, withPath(u, func(any) string { return "/v1/orders" }, func(req any) any {
			n := req.(CreateOrderRequest).NewOrder
			return createOrderBody{UserID: n.UserID, ProductID: n.ProductID, ProductName: n.ProductName, AmountSen: int64(n.Amount), IdempotencyKey: n.IdempotencyKey}
		}), decodeCreateOrderResponse, opts...).Endpoint()),
		GetOrderEndpoint: breaker(httptransport.NewClient(http.MethodGet, u, withPath(u, func(req any) string {
			return "/v1/orders/" + url.PathEscape(req.(GetOrderRequest).ID)
		}, nil), decodeOrderResponse, opts...).Endpoint()),
		SetStatusEndpoint: breaker(httptransport.NewClient(http.MethodPatch, u, withPath(u, func(req any) string {
			return "/v1/orders/" + url.PathEscape(req.(SetStatusRequest).ID)
		}, func(req any) any {
			return setStatusBody{OrderStatus: string(req.(SetStatusRequest).Status)}
		}), decodeOrderResponse, opts...).Endpoint()),
		ListOrdersEndpoint: breaker(httptransport.NewClient(http.MethodGet, u, withPath(u, func(req any) string {
			r := req.(ListOrdersRequest)
			q := url.Values{}
			if r.Limit != 0 {
				q.Set("limit", strconv.Itoa(r.Limit))
			}
			if r.Cursor != "" {
				q.Set("cursor", r.Cursor)
			}
			p := "/v1/users/" + url.PathEscape(r.UserID) + "/orders"
			if len(q) > 0 {
				p += "?" + q.Encode()
			}
			return p
		}, nil), decodeListOrdersResponse, opts...).Endpoint()),
	}, nil
}

// breakerMiddleware guards endpoints with cb, as go-kit's
// circuitbreaker.Gobreaker does (that package would also link hystrix-go
// and handy, which nothing here uses), and reports the breaker's refusals
// as ErrCircuitOpen. Only endpoint errors count as failures: a business
// error, such as an unknown order, is a call that went well.
func breakerMiddleware(cb *gobreaker.CircuitBreaker) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request any) (any, error) {
			resp, err := cb.Execute(func() (any, error) { return next(ctx, request) })
			if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
				return nil, ErrCircuitOpen
			}
			return resp, err
		}
	}
}

// withPath returns a request encoder that sends to base plus the path (and
// query) path(request) and, when body is not nil, the JSON of body(request).
func withPath(base *url.URL, path func(any) string, body func(any) any) httptransport.EncodeRequestFunc {
	return func(_ context.Context, r *http.Request, request any) error {
		u, err := url.Parse(base.String() + path(request))
		if err != nil {
			return err
		}
		r.URL, r.Host = u, u.Host
		if body == nil {
			return nil
		}
		b, err := json.Marshal(body(request))
		if err != nil {
			return err
		}
		r.Header.Set("Content-Type", "application/json")
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
		return nil
	}
}

// decodeBody decodes a success response into v. An error of order.Service
// comes back as the business error of the response, whatever its status;
// any other error answer as the endpoint's error: a 4xx the client's own
// mistake, a 5xx what the circuit breaker counts.
func decodeBody(resp *http.Response, v any) (business, err error) {
	if resp.StatusCode >= 400 {
		e := httperr.Decode(resp)
		switch known := errorFromHTTP(e); {
		case known != nil:
			return known, nil
		case e.Code == httperr.Overloaded.Code:
			return nil, ErrOverloaded
		default:
			return nil, &AnswerError{Status: e.Status, Code: e.Code, Message: e.Message}
		}
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(v); err != nil {
		return nil, fmt.Errorf("decode ordersvc response: %w", err)
	}
	return nil, nil
}

func decodeCreateOrderResponse(_ context.Context, resp *http.Response) (any, error) {
	var b orderBody
	business, err := decodeBody(resp, &b)
	if err != nil {
		return nil, err
	}
	return CreateOrderResponse{Order: b.Order.order(), Replayed: b.Replayed, Err: business}, nil
}

func decodeOrderResponse(_ context.Context, resp *http.Response) (any, error) {
	var b orderBody
	business, err := decodeBody(resp, &b)
	if err != nil {
		return nil, err
	}
	return OrderResponse{Order: b.Order.order(), Err: business}, nil
}

func decodeListOrdersResponse(_ context.Context, resp *http.Response) (any, error) {
	var b ordersBody
	business, err := decodeBody(resp, &b)
	if err != nil {
		return nil, err
	}
	orders := make([]order.Order, len(b.Orders))
	for i, o := range b.Orders {
		orders[i] = o.order()
	}
	return ListOrdersResponse{Page: order.Page{Orders: orders, NextCursor: b.NextCursor}, Err: business}, nil
}
