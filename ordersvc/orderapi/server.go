package orderapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	httptransport "github.com/go-kit/kit/transport/http"
	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/transport/correlationhttp"
	"github.com/orderflow/orderflow/transport/httperr"
)

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
	return CreateOrderRequest{NewOrder: order.NewOrder{
		UserID: b.UserID, ProductID: b.ProductID, ProductName: b.ProductName,
		Amount: order.Sen(b.AmountSen), IdempotencyKey: b.IdempotencyKey,
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
	return SetStatusRequest{ID: r.PathValue("id"), Status: order.Status(b.OrderStatus)}, nil
}

func decodeListOrdersRequest(_ context.Context, r *http.Request) (any, error) {
	q := r.URL.Query()
	limit := 0
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, ErrorToHTTP(order.ErrInvalidLimit)
		}
		limit = n
	}
	return ListOrdersRequest{UserID: r.PathValue("userId"), Cursor: q.Get("cursor"), Limit: limit}, nil
}

func encodeResponse(_ context.Context, w http.ResponseWriter, response any) error {
	var (
		status = http.StatusOK
		body   any
	)
	switch r := response.(type) {
	case CreateOrderResponse:
		status, body = http.StatusCreated, orderBody{Order: toJSON(r.Order), Replayed: r.Replayed}
	case OrderResponse:
		body = orderBody{Order: toJSON(r.Order)}
	case ListOrdersResponse:
		list := make([]orderJSON, len(r.Page.Orders))
		for i, o := range r.Page.Orders {
			list[i] = toJSON(o)
		}
		body = ordersBody{Orders: list, NextCursor: r.Page.NextCursor}
	default:
		// A response of no endpoint here: a mistake in the wiring, which
		// the error encoder answers as the 500 it is, rather than a 200
		// with nothing in it.
		return fmt.Errorf("no encoding for a response of type %T", response)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(body)
}
