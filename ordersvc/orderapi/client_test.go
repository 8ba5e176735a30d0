package orderapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/ordersvc/orderapi"
)

// failing is an order.Service whose every call fails with err.
type failing struct{ err error }

func (f failing) CreateOrder(context.Context, order.NewOrder) (order.Order, bool, error) {
	return order.Order{}, false, f.err
}
func (f failing) GetOrder(context.Context, string) (order.Order, error) { return order.Order{}, f.err }
func (f failing) ListOrders(context.Context, string, string, int) (order.Page, error) {
	return order.Page{}, f.err
}
func (f failing) SetStatus(context.Context, string, order.Status) (order.Order, error) {
	return order.Order{}, f.err
}

// serve returns a client of the internal API serving s.
func serve(t *testing.T, s order.Service) orderapi.Endpoints {
	t.Helper()
	mux := http.NewServeMux()
	orderapi.MakeHTTPHandler(mux, orderapi.MakeServerEndpoints(s, nil), log.NewNopLogger())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := orderapi.NewHTTPClient(srv.URL, srv.Client(), "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The client returns the errors the service returned, so a caller's
// errors.Is works the same on either side of the wire.
func TestTheClientReturnsTheServicesErrors(t *testing.T) {
	for _, want := range []error{
		order.ErrNotFound, order.ErrInvalidID, order.ErrInvalidUserID, order.ErrInvalidLimit, order.ErrInvalidCursor,
		order.ErrStatusNotSettable, order.ErrIdempotencyKeyReused, order.ErrConflict, order.ErrUnavailable,
	} {
		_, err := serve(t, failing{want}).GetOrder(context.Background(), "6b06dc7bd1137d4b336e0c48")
		if !errors.Is(err, want) {
			t.Errorf("want %v, have %v", want, err)
		}
	}

	terr := &order.TransitionError{From: order.Success, To: order.Processing, Allowed: []order.Status{order.Cancelled, order.Confirmed}}
	_, err := serve(t, failing{terr}).SetStatus(context.Background(), "6b06dc7bd1137d4b336e0c48", order.Processing)
	var have *order.TransitionError
	if !errors.As(err, &have) || have.From != terr.From || have.To != terr.To || len(have.Allowed) != 2 || have.Allowed[1] != order.Confirmed {
		t.Errorf("want %v, have %v", terr, err)
	}

	verr := &order.ValidationError{Fields: map[string]string{"Amount": "is not more than 0"}}
	_, _, err = serve(t, failing{verr}).CreateOrder(context.Background(), order.NewOrder{})
	var fields *order.ValidationError
	if !errors.As(err, &fields) || fields.Fields["Amount"] != "is not more than 0" {
		t.Errorf("want %v, have %v", verr, err)
	}
}

// After five failures of ordersvc in a row, the client stops calling it
// for a moment; the errors of the service are not failures.
func TestTheCircuitOpensOnFailuresOfOrdersvcOnly(t *testing.T) {
	var calls atomic.Int32
	var status atomic.Int32
	status.Store(http.StatusNotFound)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(status.Load()))
		if status.Load() == http.StatusNotFound {
			w.Write([]byte(`{"ok":false,"error":{"code":"order_not_found","message":"order not found"}}`))
		}
	}))
	defer srv.Close()
	c, err := orderapi.NewHTTPClient(srv.URL, srv.Client(), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 10 {
		if _, err := c.GetOrder(ctx, "6b06dc7bd1137d4b336e0c48"); !errors.Is(err, order.ErrNotFound) {
			t.Fatalf("want ErrNotFound, have %v", err)
		}
	}
	status.Store(http.StatusInternalServerError)
	for i := range 5 {
		var answer *orderapi.AnswerError
		if _, err := c.GetOrder(ctx, "6b06dc7bd1137d4b336e0c48"); !errors.As(err, &answer) || answer.Status != 500 {
			t.Fatalf("call %d: want ordersvc's 500, have %v", i, err)
		}
	}
	before := calls.Load()
	if _, err := c.GetOrder(ctx, "6b06dc7bd1137d4b336e0c48"); !errors.Is(err, orderapi.ErrCircuitOpen) {
		t.Errorf("want ErrCircuitOpen, have %v", err)
	}
	if calls.Load() != before {
		t.Error("the open circuit let a call through")
	}
}

// With a token set, ordersvc serves only the callers that present it.
func TestTheInternalTokenIsRequiredWhenSet(t *testing.T) {
	mux := http.NewServeMux()
	orderapi.MakeHTTPHandler(mux, orderapi.MakeServerEndpoints(failing{order.ErrNotFound}, nil), log.NewNopLogger())
	srv := httptest.NewServer(orderapi.RequireToken("s3cret-token", mux))
	defer srv.Close()
	ctx := context.Background()
	for token, want := range map[string]int{"": 401, "wrong": 401, "s3cret-token": 404} {
		c, err := orderapi.NewHTTPClient(srv.URL, srv.Client(), token)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetOrder(ctx, "6b06dc7bd1137d4b336e0c48")
		var answer *orderapi.AnswerError
		switch {
		case want == 404 && !errors.Is(err, order.ErrNotFound):
			t.Errorf("token %q: want the call served (order not found), have %v", token, err)
		case want == 401 && (!errors.As(err, &answer) || answer.Status != 401):
			t.Errorf("token %q: want 401, have %v", token, err)
		}
	}
}
