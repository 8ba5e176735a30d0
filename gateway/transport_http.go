package gateway

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/kit/metrics"
	httptransport "github.com/go-kit/kit/transport/http"
	"github.com/go-kit/log"
	httpSwagger "github.com/swaggo/http-swagger/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/orderflow/orderflow/gateway/docs"
	"github.com/orderflow/orderflow/internal/httpserver"
	"github.com/orderflow/orderflow/internal/prommetrics"
	"github.com/orderflow/orderflow/internal/telemetry"
	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/ordersvc/orderapi"

	"github.com/orderflow/orderflow/internal/correlation"
	"github.com/orderflow/orderflow/transport/correlationhttp"
	"github.com/orderflow/orderflow/transport/httperr"
)

// HandlerOptions is what the public API needs besides ordersvc.
type HandlerOptions struct {
	// Dependencies are reported by /readyz, which fails on none of them:
	// a gateway that cannot reach ordersvc still answers its clients, with
	// a JSON 503.
	Dependencies map[string]httpserver.Check
	// Metrics count the API's requests; ServeMetrics serves them at
	// /metrics too (else Run serves them apart).
	Metrics      *prommetrics.Metrics
	ServeMetrics bool
	// Auth, unless nil, makes callers sign in: each order route then acts
	// for the token's user only.
	Auth *Authenticator
	// Limiter, unless nil, limits each client's requests to the order
	// routes.
	Limiter *RateLimiter
}

// MakeHTTPHandler returns the public API on top of e, the endpoints of
// ordersvc's client, with /healthz, /readyz, the Swagger UI at /api and the OpenAPI document at /api-json. Only
// the order routes are signed in and rate limited.
func MakeHTTPHandler(e orderapi.Endpoints, o HandlerOptions, logger log.Logger) http.Handler {
	if o.Metrics == nil {
		o.Metrics = prommetrics.NewMetrics("gateway")
	}
	opts := []httptransport.ServerOption{
		httptransport.ServerErrorHandler(httperr.LogServerErrors(logger, errorToHTTP)),
		httptransport.ServerErrorEncoder(httperr.EncodeError(errorToHTTP)),
	}
	createOpts := []httptransport.ServerOption{
		httptransport.ServerErrorHandler(httperr.LogServerErrors(logger, createErrorToHTTP)),
		httptransport.ServerErrorEncoder(httperr.EncodeError(createErrorToHTTP)),
	}

	// An order of another user than the signed-in one is, to this caller,
	// no order at all.
	getOrder := ownOrderOnly(e.GetOrderEndpoint)
	setStatus := ownOrderFirst(e.GetOrderEndpoint, e.SetStatusEndpoint)
	guard := func(h http.Handler) http.Handler { return admit(o.Auth, o.Limiter, h) }

	mux := http.NewServeMux()
	mux.Handle("POST /orders", guard(httptransport.NewServer(httperr.Failures(e.CreateOrderEndpoint), decodeCreateOrder, encodeCreated, createOpts...)))
	mux.Handle("PUT /orders", guard(httptransport.NewServer(httperr.Failures(setStatus), decodeSetStatus, encodeOrder, opts...)))
	mux.Handle("/orders", httperr.MethodNotAllowed("POST, PUT"))
	mux.Handle("GET /orders/one/{orderId}", guard(httptransport.NewServer(httperr.Failures(getOrder), decodeGetOrder, encodeOrder, opts...)))
	mux.Handle("/orders/one/{orderId}", httperr.MethodNotAllowed("GET"))
	mux.Handle("GET /orders/status/{orderId}", guard(httptransport.NewServer(httperr.Failures(getOrder), decodeGetStatus, encodeStatus, opts...)))
	mux.Handle("/orders/status/{orderId}", httperr.MethodNotAllowed("GET"))
	mux.Handle("GET /orders/{userId}", guard(httptransport.NewServer(httperr.Failures(e.ListOrdersEndpoint), decodeListOrders, encodeList, opts...)))
	mux.Handle("/orders/{userId}", httperr.MethodNotAllowed("GET"))
	if o.ServeMetrics {
		mux.Handle("GET /metrics", o.Metrics.Handler())
		mux.Handle("/metrics", httperr.MethodNotAllowed("GET"))
	}

	mux.Handle("GET /api", http.RedirectHandler("/api/index.html", http.StatusMovedPermanently))
	mux.Handle("GET /api/", httpSwagger.Handler(httpSwagger.URL("/api-json")))
	// OpenAPI 3 at /api-json, as the original served it; the Swagger 2.0
	// document it is made from stays at /api-json/2.0.
	mux.HandleFunc("GET /api-json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(docs.OpenAPI3)
	})
	mux.HandleFunc("GET /api-json/2.0", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write([]byte(docs.SwaggerInfo.ReadDoc()))
	})
	for _, path := range []string{"/api", "/api/", "/api-json", "/api-json/2.0"} {
		mux.Handle(path, httperr.MethodNotAllowed("GET"))
	}
	httpserver.MountHealth(mux, nil, o.Dependencies)
	mux.HandleFunc("/", httperr.NotFound)

	observed := observe(logger,
		o.Metrics.Counter("http_requests_total", "Requests of the public API, by route, method and status.", "route", "method", "status"),
		o.Metrics.Histogram("http_request_duration_seconds", "Duration of requests of the public API, by route.", "route"),
		recoverer(logger, mux))
	return correlationhttp.Middleware(observed)
}

// decodeCreateOrder reads POST /orders.
//
//	@Summary		Create an order
//	@Description	Stores the order (Processing/Pending) and asks for its payment. Product "1" is paid, every other product is declined. A retry with the same Idempotency-Key and body returns the first order (header Idempotent-Replayed: true); the same key with another body is a 422.
//	@Tags			orders
//	@Accept			json
//	@Produce		json
//	@Param			Idempotency-Key	header		string				false	"1-255 printable characters, scoped to the userId"
//	@Param			order			body		CreateOrderInput	true	"the order"
//	@Success		201				{object}	CreatedOrder
//	@Header			201				{string}	Location			"/orders/one/{id}"
//	@Failure		400				{object}	ErrorBody			"invalid JSON or fields"
//	@Failure		413				{object}	ErrorBody			"body over 16 KiB"
//	@Failure		415				{object}	ErrorBody			"not JSON"
//	@Failure		422				{object}	ErrorBody			"Idempotency-Key reused with another body"
//	@Failure		503				{object}	ErrorBody			"store unavailable, or the order service at capacity (Retry-After): nothing was created"
//	@Failure		504				{object}	ErrorBody			"the order service did not answer in time: the order may exist; retry with the same Idempotency-Key"
//	@Security	BearerAuth
//	@Failure	401	{object}	ErrorBody	"sign-in on: no token, or a bad one"
//	@Failure	403	{object}	ErrorBody	"sign-in on: the token is for another user"
//	@Failure	429	{object}	ErrorBody	"past the client's rate limit (Retry-After)"
//	@Router			/orders [post]
func decodeCreateOrder(ctx context.Context, r *http.Request) (any, error) {
	body, err := readJSONBody(r)
	if err != nil {
		return nil, err
	}
	key, hasKey := r.Header.Get("Idempotency-Key"), len(r.Header.Values("Idempotency-Key")) > 0
	if len(r.Header.Values("Idempotency-Key")) > 1 {
		return nil, httperr.Invalid(map[string]string{"Idempotency-Key": msgRepeated})
	}
	n, err := ParseCreateOrder(body, key, hasKey)
	if err != nil {
		return nil, err
	}
	if sub := subjectFrom(ctx); sub != "" && n.UserID != sub {
		return nil, errForbidden
	}
	return orderapi.CreateOrderRequest{NewOrder: n}, nil
}

// decodeGetOrder reads GET /orders/one/{orderId}.
//
//	@Summary	Get an order
//	@Tags		orders
//	@Produce	json
//	@Param		orderId	path		string	true	"order id (24 hex characters)"
//	@Success	200		{object}	OneOrder
//	@Failure	400		{object}	ErrorBody	"malformed id"
//	@Failure	404		{object}	ErrorBody	"unknown id"
//	@Security	BearerAuth
//	@Failure	401	{object}	ErrorBody	"sign-in on: no token, or a bad one"
//	@Failure	429	{object}	ErrorBody	"past the client's rate limit (Retry-After)"
//	@Failure	503	{object}	ErrorBody	"the order service or its store unavailable, or at capacity (Retry-After)"
//	@Failure	504	{object}	ErrorBody	"the order service did not answer in time"
//	@Router		/orders/one/{orderId} [get]
func decodeGetOrder(_ context.Context, r *http.Request) (any, error) {
	id := r.PathValue("orderId")
	if !order.ValidOrderID(id) {
		return nil, errInvalidID
	}
	return orderapi.GetOrderRequest{ID: id}, nil
}

// decodeGetStatus reads GET /orders/status/{orderId}.
//
//	@Summary	Get an order's status and payment status
//	@Tags		orders
//	@Produce	json
//	@Param		orderId	path		string	true	"order id (24 hex characters)"
//	@Success	200		{object}	OrderStatus
//	@Failure	400		{object}	ErrorBody	"malformed id"
//	@Failure	404		{object}	ErrorBody	"unknown id"
//	@Security	BearerAuth
//	@Failure	401	{object}	ErrorBody	"sign-in on: no token, or a bad one"
//	@Failure	429	{object}	ErrorBody	"past the client's rate limit (Retry-After)"
//	@Failure	503	{object}	ErrorBody	"the order service or its store unavailable, or at capacity (Retry-After)"
//	@Failure	504	{object}	ErrorBody	"the order service did not answer in time"
//	@Router		/orders/status/{orderId} [get]
func decodeGetStatus(ctx context.Context, r *http.Request) (any, error) {
	return decodeGetOrder(ctx, r)
}

// decodeListOrders reads GET /orders/{userId}.
//
//	@Summary		List a user's orders
//	@Description	Newest first. Pass the nextCursor of a page as ?cursor= to get the next; it is null on the last page.
//	@Tags			orders
//	@Produce		json
//	@Param			userId	path		string	true	"user id"
//	@Param			limit	query		int		false	"page size, 1 to 200"	default(50)
//	@Param			cursor	query		string	false	"nextCursor of the previous page"
//	@Success		200		{object}	OrderList
//	@Failure		400		{object}	ErrorBody	"bad userId, limit or cursor"
//	@Security	BearerAuth
//	@Failure	401	{object}	ErrorBody	"sign-in on: no token, or a bad one"
//	@Failure	403	{object}	ErrorBody	"sign-in on: the token is for another user"
//	@Failure	429	{object}	ErrorBody	"past the client's rate limit (Retry-After)"
//	@Failure	503	{object}	ErrorBody	"the order service or its store unavailable, or at capacity (Retry-After)"
//	@Failure	504	{object}	ErrorBody	"the order service did not answer in time"
//	@Router			/orders/{userId} [get]
func decodeListOrders(ctx context.Context, r *http.Request) (any, error) {
	userID := r.PathValue("userId")
	if !order.ValidUserID(userID) {
		return nil, errInvalidUserID
	}
	if sub := subjectFrom(ctx); sub != "" && userID != sub {
		return nil, errForbidden
	}
	q := r.URL.Query()
	limit := order.DefaultLimit
	if s := q.Get("limit"); q.Has("limit") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > order.MaxLimit {
			return nil, errInvalidLimit
		}
		limit = n
	}
	// ordersvc judges the cursor: it made it.
	return orderapi.ListOrdersRequest{UserID: userID, Cursor: q.Get("cursor"), Limit: limit}, nil
}

// decodeSetStatus reads PUT /orders.
//
//	@Summary		Cancel or confirm an order
//	@Description	Processing or Success orders can be Cancelled (a paid one is refunded); Success orders can be Confirmed. Failed, Cancelled and Confirmed are final. Asking for the current status changes nothing.
//	@Tags			orders
//	@Accept			json
//	@Produce		json
//	@Param			change	body		SetStatusInput	true	"the order and its new status"
//	@Success		200		{object}	OneOrder
//	@Failure		400		{object}	ErrorBody	"invalid JSON or fields"
//	@Failure		404		{object}	ErrorBody	"unknown id"
//	@Failure		409		{object}	ErrorBody	"transition not allowed from the current status"
//	@Failure		413		{object}	ErrorBody	"body over 16 KiB"
//	@Failure		415		{object}	ErrorBody	"not JSON"
//	@Security	BearerAuth
//	@Failure	401	{object}	ErrorBody	"sign-in on: no token, or a bad one"
//	@Failure	429	{object}	ErrorBody	"past the client's rate limit (Retry-After)"
//	@Failure	503	{object}	ErrorBody	"the order service or its store unavailable, or at capacity (Retry-After)"
//	@Failure	504	{object}	ErrorBody	"the order service did not answer in time"
//	@Router			/orders [put]
func decodeSetStatus(_ context.Context, r *http.Request) (any, error) {
	body, err := readJSONBody(r)
	if err != nil {
		return nil, err
	}
	return ParseSetStatus(body)
}

func encodeCreated(_ context.Context, w http.ResponseWriter, response any) error {
	r := response.(orderapi.CreateOrderResponse)
	w.Header().Set("Location", "/orders/one/"+r.Order.ID)
	if r.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	return httpserver.WriteJSON(w, http.StatusCreated, CreatedOrder{OK: true, Created: CreatedID{ID: r.Order.ID}, Order: viewOf(r.Order)})
}

func encodeOrder(ctx context.Context, w http.ResponseWriter, response any) error {
	return httpserver.WriteJSON(w, http.StatusOK, OneOrder{OK: true, Order: viewOf(response.(orderapi.OrderResponse).Order)})
}

func encodeStatus(ctx context.Context, w http.ResponseWriter, response any) error {
	o := response.(orderapi.OrderResponse).Order
	return httpserver.WriteJSON(w, http.StatusOK, OrderStatus{OK: true, OrderID: o.ID, OrderStatus: string(o.Status), PaymentStatus: string(o.PaymentStatus)})
}

func encodeList(ctx context.Context, w http.ResponseWriter, response any) error {
	p := response.(orderapi.ListOrdersResponse).Page
	views := make([]OrderView, len(p.Orders))
	for i, o := range p.Orders {
		views[i] = viewOf(o)
	}
	list := OrderList{OK: true, Orders: views}
	if p.NextCursor != "" {
		list.NextCursor = &p.NextCursor
	}
	return httpserver.WriteJSON(w, http.StatusOK, list)
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// observe counts, times and logs every request, with its request id as
// correlation_id. Requests are labelled by route pattern, not path, so that
// order ids do not make a metric series each.
func observe(logger log.Logger, requests metrics.Counter, latency metrics.Histogram, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		begin := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		took := time.Since(begin)
		route := r.Pattern // set by the mux
		if route == "" || route == "/" {
			route = "unmatched"
		}
		span := trace.SpanFromContext(r.Context())
		span.SetName(route)
		span.SetAttributes(attribute.String("correlation_id", correlation.FromContext(r.Context())))
		requests.With("route", route, "method", methodLabel(r.Method), "status", strconv.Itoa(rec.status)).Add(1)
		latency.With("route", route).Observe(took.Seconds())
		// Reads that went well are counted, not logged: clients poll, and a
		// line per poll is noise no operator acts on.
		if r.Method == http.MethodGet && rec.status < 500 {
			return
		}
		kv := []any{"msg", "request", "method", r.Method, "path", r.URL.Path, "status", rec.status}
		// A request that created an order, or answered with the one its
		// Idempotency-Key created, says which.
		if id, ok := strings.CutPrefix(rec.Header().Get("Location"), "/orders/one/"); ok {
			kv = append(kv, "order_id", id, "replayed", rec.Header().Get("Idempotent-Replayed") == "true")
		}
		kv = append(kv, "correlation_id", correlation.FromContext(r.Context()), "took", took)
		logger.Log(append(kv, telemetry.LogKeys(r.Context())...)...)
	})
}

// methodLabel is the method label of a request: its method when it is a
// standard one, else "other", so that made-up methods make no series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// recoverer turns a panic into a 500 in the error shape, logged, not shown.
func recoverer(logger log.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.Log("msg", "panic serving request", "path", r.URL.Path, "panic", fmt.Sprint(v))
				httperr.Write(w, httperr.Internal)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
