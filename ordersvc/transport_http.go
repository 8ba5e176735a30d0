package ordersvc

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

	httptransport "github.com/go-kit/kit/transport/http"
	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/transport/correlation/correlationhttp"
	"github.com/orderflow/orderflow/transport/httperr"
)

// The internal HTTP API, for the gateway:
//
//	POST  /v1/orders                    {"userId","productId","productName","amountSen","idempotencyKey"}
//	GET   /v1/orders/{id}
//	PATCH /v1/orders/{id}               {"orderStatus":"Cancelled"|"Confirmed"}
//	GET   /v1/users/{userId}/orders?limit=N&cursor=C
//
// Responses carry {"order":ORDER}, {"order":ORDER,"replayed":bool} or
// {"orders":[ORDER],"nextCursor":C}; errors use the shape of package httperr.

// MakeHTTPHandler mounts the endpoints of the internal API on mux.
func MakeHTTPHandler(mux *http.ServeMux, e Endpoints, logger log.Logger) {
	opts := []httptransport.ServerOption{
		httptransport.ServerErrorHandler(httperr.LogServerErrors(logger, ErrorToHTTP)),
		httptransport.ServerErrorEncoder(httperr.EncodeError(ErrorToHTTP)),
		httptransport.ServerBefore(correlationhttp.FromHTTPRequest),
	}
	mux.Handle("POST /v1/orders", httptransport.NewServer(httperr.Failures(e.CreateOrderEndpoint), decodeCreateOrderRequest, encodeResponse, opts...))
	mux.Handle("GET /v1/orders/{id}", httptransport.NewServer(httperr.Failures(e.GetOrderEndpoint), decodeGetOrderRequest, encodeResponse, opts...))
	mux.Handle("PATCH /v1/orders/{id}", httptransport.NewServer(httperr.Failures(e.SetStatusEndpoint), decodeSetStatusRequest, encodeResponse, opts...))
	mux.Handle("GET /v1/users/{userId}/orders", httptransport.NewServer(httperr.Failures(e.ListOrdersEndpoint), decodeListOrdersRequest, encodeResponse, opts...))
}

// ErrorToHTTP maps the errors of Service to what a client sees.
func ErrorToHTTP(err error) *httperr.Error {
	var (
		verr *ValidationError
		terr *TransitionError
	)
	switch {
	case errors.As(err, &verr):
		return httperr.Invalid(verr.Fields)
	case errors.As(err, &terr):
		return httperr.New(http.StatusConflict, "transition_not_allowed", terr.Error())
	case errors.Is(err, ErrStatusNotSettable):
		return httperr.Invalid(map[string]string{"orderStatus": "must be Cancelled or Confirmed"})
	case errors.Is(err, ErrNotFound):
		return httperr.New(http.StatusNotFound, "order_not_found", "No order has this id.")
	case errors.Is(err, ErrInvalidID):
		return httperr.New(http.StatusBadRequest, "invalid_order_id", "The order id must be 24 hexadecimal characters.")
	case errors.Is(err, ErrInvalidUserID):
		return httperr.New(http.StatusBadRequest, "invalid_user_id", "The userId must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -.")
	case errors.Is(err, ErrInvalidLimit):
		return httperr.New(http.StatusBadRequest, "invalid_limit", "The limit must be a whole number from 1 to 200.")
	case errors.Is(err, ErrInvalidCursor):
		return httperr.New(http.StatusBadRequest, "invalid_cursor", "The cursor is not one this API returned.")
	case errors.Is(err, ErrIdempotencyKeyReused):
		return httperr.New(http.StatusUnprocessableEntity, "idempotency_key_reused", "This Idempotency-Key was already used by this user with a different request.")
	case errors.Is(err, ErrConflict):
		return httperr.New(http.StatusConflict, "concurrent_update", "The order changed while it was being updated; try again.")
	case errors.Is(err, ErrUnavailable):
		return httperr.New(http.StatusServiceUnavailable, "store_unavailable", "The order store is unavailable; try again shortly.")
	}
	return nil
}

// OrderJSON is an order on the internal API.
type OrderJSON struct {
	ID            string    `json:"id"`
	UserID        string    `json:"userId"`
	ProductID     string    `json:"productId"`
	ProductName   string    `json:"productName"`
	AmountSen     int64     `json:"amountSen"`
	Currency      string    `json:"currency"`
	OrderStatus   string    `json:"orderStatus"`
	PaymentStatus string    `json:"paymentStatus"`
	PaymentID     string    `json:"paymentId,omitempty"`
	DeclineReason string    `json:"declineReason,omitempty"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

func toJSON(o Order) OrderJSON {
	return OrderJSON{
		ID: o.ID, UserID: o.UserID, ProductID: o.ProductID, ProductName: o.ProductName,
		AmountSen: int64(o.Amount), Currency: Currency,
		OrderStatus: string(o.Status), PaymentStatus: string(o.PaymentStatus),
		PaymentID: o.PaymentID, DeclineReason: o.DeclineReason,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
	}
}

func (j OrderJSON) order() Order {
	return Order{
		ID: j.ID, UserID: j.UserID, ProductID: j.ProductID, ProductName: j.ProductName,
		Amount: Sen(j.AmountSen), Status: Status(j.OrderStatus), PaymentStatus: PaymentStatus(j.PaymentStatus),
		PaymentID: j.PaymentID, DeclineReason: j.DeclineReason,
		CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt,
	}
}

type createOrderBody struct {
	UserID         string `json:"userId"`
	ProductID      string `json:"productId"`
	ProductName    string `json:"productName"`
	AmountSen      int64  `json:"amountSen"`
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
}

type setStatusBody struct {
	OrderStatus string `json:"orderStatus"`
}

type orderBody struct {
	Order    OrderJSON `json:"order"`
	Replayed bool      `json:"replayed,omitempty"`
}

type ordersBody struct {
	Orders     []OrderJSON `json:"orders"`
	NextCursor string      `json:"nextCursor,omitempty"`
}

var errBadBody = httperr.New(http.StatusBadRequest, "invalid_body", "The body is not the JSON this endpoint takes.")

func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errBadBody
	}
	return nil
}

func decodeCreateOrderRequest(_ context.Context, r *http.Request) (any, error) {
	var b createOrderBody
	if err := decodeJSON(r, &b); err != nil {
		return nil, err
	}
	return CreateOrderRequest{NewOrder: NewOrder{
		UserID: b.UserID, ProductID: b.ProductID, ProductName: b.ProductName,
		Amount: Sen(b.AmountSen), IdempotencyKey: b.IdempotencyKey,
	}}, nil
}

func decodeGetOrderRequest(_ context.Context, r *http.Request) (any, error) {
	return GetOrderRequest{ID: r.PathValue("id")}, nil
}

func decodeSetStatusRequest(_ context.Context, r *http.Request) (any, error) {
	var b setStatusBody
	if err := decodeJSON(r, &b); err != nil {
		return nil, err
	}
	return SetStatusRequest{ID: r.PathValue("id"), Status: Status(b.OrderStatus)}, nil
}

func decodeListOrdersRequest(_ context.Context, r *http.Request) (any, error) {
	q := r.URL.Query()
	limit := 0
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, ErrorToHTTP(ErrInvalidLimit)
		}
		limit = n
	}
	return ListOrdersRequest{UserID: r.PathValue("userId"), Cursor: q.Get("cursor"), Limit: limit}, nil
}

func encodeResponse(ctx context.Context, w http.ResponseWriter, response any) error {
	status, body := http.StatusOK, any(nil)
	switch r := response.(type) {
	case CreateOrderResponse:
		status, body = http.StatusCreated, orderBody{Order: toJSON(r.Order), Replayed: r.Replayed}
	case OrderResponse:
		body = orderBody{Order: toJSON(r.Order)}
	case ListOrdersResponse:
		list := make([]OrderJSON, len(r.Page.Orders))
		for i, o := range r.Page.Orders {
			list[i] = toJSON(o)
		}
		body = ordersBody{Orders: list, NextCursor: r.Page.NextCursor}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(body)
}

// NewHTTPClient returns a Service that calls the internal API at baseURL
// (such as "http://ordersvc:7001"). Errors the server reports come back as
// *httperr.Error; failures to reach it as the HTTP client's errors.
func NewHTTPClient(baseURL string, client *http.Client) (Service, error) {
	u, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("ordersvc URL %q: want http://host:port", baseURL)
	}
	opts := []httptransport.ClientOption{
		httptransport.SetClient(client),
		httptransport.ClientBefore(correlationhttp.ToHTTPRequest),
	}
	return Endpoints{
		CreateOrderEndpoint: httptransport.NewClient(http.MethodPost, u, withPath(u, func(any) string { return "/v1/orders" }, func(req any) any {
			n := req.(CreateOrderRequest).NewOrder
			return createOrderBody{UserID: n.UserID, ProductID: n.ProductID, ProductName: n.ProductName, AmountSen: int64(n.Amount), IdempotencyKey: n.IdempotencyKey}
		}), decodeCreateOrderResponse, opts...).Endpoint(),
		GetOrderEndpoint: httptransport.NewClient(http.MethodGet, u, withPath(u, func(req any) string {
			return "/v1/orders/" + url.PathEscape(req.(GetOrderRequest).ID)
		}, nil), decodeOrderResponse, opts...).Endpoint(),
		SetStatusEndpoint: httptransport.NewClient(http.MethodPatch, u, withPath(u, func(req any) string {
			return "/v1/orders/" + url.PathEscape(req.(SetStatusRequest).ID)
		}, func(req any) any {
			return setStatusBody{OrderStatus: string(req.(SetStatusRequest).Status)}
		}), decodeOrderResponse, opts...).Endpoint(),
		ListOrdersEndpoint: httptransport.NewClient(http.MethodGet, u, withPath(u, func(req any) string {
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
		}, nil), decodeListOrdersResponse, opts...).Endpoint(),
	}, nil
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

// decodeBody decodes a success response into v. An error response comes
// back as an *httperr.Error: a 4xx, the caller's mistake, as the business
// error of the response; a 5xx as the endpoint's error, which is what a
// circuit breaker should count.
func decodeBody(resp *http.Response, v any) (business, err error) {
	switch {
	case resp.StatusCode >= 500:
		return nil, httperr.Decode(resp)
	case resp.StatusCode >= 400:
		return httperr.Decode(resp), nil
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
	orders := make([]Order, len(b.Orders))
	for i, o := range b.Orders {
		orders[i] = o.order()
	}
	return ListOrdersResponse{Page: Page{Orders: orders, NextCursor: b.NextCursor}, Err: business}, nil
}
