package devstack_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/orderflow/orderflow/gateway/docs"
)

// The public API's OpenAPI 3 document, as /api-json serves it: every
// request the tests make of an operation it documents, and every answer,
// is checked against it, so the document and the server cannot drift
// apart.
var contract = sync.OnceValues(func() (routers.Router, error) {
	doc, err := openapi3.NewLoader().LoadFromData(docs.OpenAPI3)
	if err != nil {
		return nil, err
	}
	doc.Servers = nil // any host: the tests' gateways listen on free ports
	return gorillamux.NewRouter(doc)
})

// checkContract validates req (whose body was reqBody) when the gateway
// took it, and its answer resp (whose body was raw) always, against the
// document; a request of no documented operation is not checked.
func checkContract(t testing.TB, req *http.Request, reqBody []byte, resp *http.Response, raw []byte) {
	t.Helper()
	router, err := contract()
	if err != nil {
		t.Fatalf("the OpenAPI document does not load: %v", err)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		return // /healthz, /metrics and the like, or a made-up path
	}
	ctx := context.Background()
	req = req.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	if resp.StatusCode < 300 {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			t.Errorf("%s %s was served, but the document says it is invalid: %v", req.Method, req.URL.Path, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body:    io.NopCloser(bytes.NewReader(raw)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("%s %s answered %d, which the document does not describe: %v\n%s", req.Method, req.URL.Path, resp.StatusCode, err, raw)
	}
}

// recorder is a testing.TB that keeps what would fail the test.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Errorf(format string, a ...any) { r.failures = append(r.failures, format) }
func (r *recorder) Fatalf(format string, a ...any) { r.failures = append(r.failures, format) }

// The check catches an answer the document does not describe, and a
// request it says is invalid.
func TestTheContractCatchesADrift(t *testing.T) {
	check := func(method, path, reqBody string, status int, respBody string) int {
		r := &recorder{TB: t}
		req, _ := http.NewRequest(method, "http://127.0.0.1:7000"+path, nil)
		req.Header.Set("Content-Type", "application/json")
		resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}}}
		checkContract(r, req, []byte(reqBody), resp, []byte(respBody))
		return len(r.failures)
	}
	const id = "6b06dc7bd1137d4b336e0c48"
	ok := `{"ok":true,"orderId":"` + id + `","orderStatus":"Success","paymentStatus":"Paid"}`
	if n := check("GET", "/orders/status/"+id, "", 200, ok); n != 0 {
		t.Errorf("a documented answer failed the check")
	}
	for name, n := range map[string]int{
		"an undocumented status":     check("GET", "/orders/status/"+id, "", 418, `{"ok":false,"error":{"code":"x","message":"y"}}`),
		"a body of the wrong shape":  check("GET", "/orders/status/"+id, "", 200, `{"ok":true,"orderId":42}`),
		"an error without its code":  check("GET", "/orders/status/"+id, "", 404, `{"ok":false,"error":{"message":"y"}}`),
		"an invalid request, served": check("POST", "/orders", `{"userId":"u 1"}`, 201, `{}`),
	} {
		if n == 0 {
			t.Errorf("%s passed the check", name)
		}
	}
}
