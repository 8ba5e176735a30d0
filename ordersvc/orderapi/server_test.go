package orderapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/ordersvc/orderapi"
)

// An endpoint whose response the server has no encoding for (a mistake in
// the wiring) is a 500 in the error shape, never a 200 with nothing in it.
func TestAResponseOfNoKnownTypeIsA500(t *testing.T) {
	odd := func(context.Context, any) (any, error) { return struct{ Surprise bool }{true}, nil }
	e := orderapi.MakeServerEndpoints(failing{}, func(string) endpoint.Middleware {
		return func(endpoint.Endpoint) endpoint.Endpoint { return odd }
	})
	mux := http.NewServeMux()
	orderapi.MakeHTTPHandler(mux, e, log.NewNopLogger())
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/orders/6b06dc7bd1137d4b336e0c48", nil))
	var body struct {
		OK    bool `json:"ok"`
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("want the error shape, have %q (%v)", rec.Body, err)
	}
	if rec.Code != http.StatusInternalServerError || body.OK || body.Error.Code != "internal" {
		t.Errorf("want 500 internal, have %d %s", rec.Code, rec.Body)
	}
}
