package gateway_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/gateway"
	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/prommetrics"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/ordersvc/orderapi"
	"github.com/orderflow/orderflow/ordersvc/orderstore"

	"github.com/orderflow/orderflow/transport/httperr"
)

// nopEvents publishes nothing, to nobody.
type nopEvents struct{}

func (nopEvents) OrderCreated(context.Context, order.Order) error   { return nil }
func (nopEvents) OrderCancelled(context.Context, order.Order) error { return nil }

// newGateway serves the gateway's real handler on top of a real ordersvc
// HTTP API on an in-memory repository.
func newGateway(t *testing.T) *httptest.Server { return newGatewayWith(t, gateway.HandlerOptions{}) }

// newGatewayWith is newGateway with the options o (whose metrics default to
// new ones, served at /metrics).
func newGatewayWith(t *testing.T, o gateway.HandlerOptions) *httptest.Server {
	repo, err := orderstore.NewStore(context.Background(), docstore.NewMemory(), orderstore.Backoff{Min: time.Second, Max: time.Second}, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	svc := order.NewService(repo, nopEvents{}, log.NewNopLogger())
	mux := http.NewServeMux()
	orderapi.MakeHTTPHandler(mux, orderapi.MakeServerEndpoints(svc, nil), log.NewNopLogger())
	orders := httptest.NewServer(mux)
	t.Cleanup(orders.Close)
	return gatewayTo(t, orders.URL, time.Second, o)
}

func gatewayTo(t *testing.T, ordersURL string, timeout time.Duration, o gateway.HandlerOptions) *httptest.Server {
	client, err := orderapi.NewHTTPClient(ordersURL, &http.Client{Timeout: timeout}, "")
	if err != nil {
		t.Fatal(err)
	}
	if o.Metrics == nil {
		o.Metrics, o.ServeMetrics = prommetrics.NewMetrics("gateway"), true
	}
	gw := httptest.NewServer(gateway.MakeHTTPHandler(client, o, log.NewNopLogger()))
	t.Cleanup(gw.Close)
	return gw
}

func post(t *testing.T, url, contentType, body string, header ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/orders", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestGatewayAnswers504WhenOrdersvcIsSlow(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers; returns when the gateway gives up
	}))
	t.Cleanup(slow.Close)
	gw := gatewayTo(t, slow.URL, 100*time.Millisecond, gateway.HandlerOptions{})
	begin := time.Now()
	resp, err := http.Get(gw.URL + "/orders/one/0123456789abcdef01234567")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Errorf("want 504, have %d", resp.StatusCode)
	}
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("the gateway hung for %v", took)
	}
}

// A POST that times out may have created its order: the 504 says how to
// find out safely.
func TestA504OnCreateSaysARetryWithTheKeyIsSafe(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then the server notices the gateway leave
		<-r.Context().Done()
	}))
	t.Cleanup(slow.Close)
	gw := gatewayTo(t, slow.URL, 100*time.Millisecond, gateway.HandlerOptions{})
	req, _ := http.NewRequest("POST", gw.URL+"/orders", strings.NewReader(`{"userId":"u1","productId":"1","productName":"K","totalOrderAmount":1}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "k1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(string(body), "may have been created") || !strings.Contains(string(body), "same Idempotency-Key") {
		t.Errorf("want a 504 saying the order may exist and a retry with the key is safe, have %d %s", resp.StatusCode, body)
	}
}

// ordersvc at capacity answers 503 with Retry-After; the client sees both.
func TestOrdersvcAtCapacityReachesTheClientAs503WithRetryAfter(t *testing.T) {
	full := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httperr.Write(w, httperr.Overloaded)
	}))
	t.Cleanup(full.Close)
	gw := gatewayTo(t, full.URL, time.Second, gateway.HandlerOptions{})
	resp := post(t, gw.URL, "application/json", `{"userId":"u1","productId":"1","productName":"K","totalOrderAmount":1}`)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("want 503 with Retry-After: 1, have %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestBodyLimitIs16KiB(t *testing.T) {
	gw := newGateway(t)
	pad := func(n int) string {
		prefix := `{"userId":"u1","productId":"1","totalOrderAmount":1,"productName":"x`
		return prefix + strings.Repeat(" ", n-len(prefix)-2) + `"}`
	}
	if resp := post(t, gw.URL, "application/json", pad(gateway.MaxBodyBytes)); resp.StatusCode != http.StatusCreated {
		t.Errorf("a body of exactly 16 KiB: want 201, have %d", resp.StatusCode)
	}
	if resp := post(t, gw.URL, "application/json", pad(gateway.MaxBodyBytes+1)); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("one byte more: want 413, have %d", resp.StatusCode)
	}
}

func TestJSONWithCharsetIsJSON(t *testing.T) {
	gw := newGateway(t)
	body := `{"userId":"u1","productId":"1","productName":"K","totalOrderAmount":1}`
	if resp := post(t, gw.URL, "application/json; charset=utf-8", body); resp.StatusCode != http.StatusCreated {
		t.Errorf("want 201, have %d", resp.StatusCode)
	}
	if resp := post(t, gw.URL, "", body); resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("no Content-Type: want 415, have %d", resp.StatusCode)
	}
}

func TestRequestIDIsKeptOrMade(t *testing.T) {
	gw := newGateway(t)
	body := `{"userId":"u1","productId":"1","productName":"K","totalOrderAmount":1}`
	if resp := post(t, gw.URL, "application/json", body, "X-Request-Id", "trace-abc.1"); resp.Header.Get("X-Request-Id") != "trace-abc.1" {
		t.Errorf("a sane request id is kept: have %q", resp.Header.Get("X-Request-Id"))
	}
	if id := post(t, gw.URL, "application/json", body, "X-Request-Id", "bad id; drop table").Header.Get("X-Request-Id"); id == "" || strings.Contains(id, " ") {
		t.Errorf("an unusable request id is replaced: have %q", id)
	}
}

func TestSwaggerUIAndDocumentAreServed(t *testing.T) {
	gw := newGateway(t)
	for path, want := range map[string]string{"/api/index.html": "swagger-ui", "/api-json": `"openapi": "3.0`, "/api-json/2.0": `"swagger": "2.0"`} {
		resp, err := http.Get(gw.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
			t.Errorf("%s: want 200 containing %q, have %d", path, want, resp.StatusCode)
		}
	}
}

// An operator greps the order id: the one line of a POST names the order it
// created, or the one its Idempotency-Key had created.
func TestAPostLogsOneLineNamingItsOrder(t *testing.T) {
	repo, err := orderstore.NewStore(context.Background(), docstore.NewMemory(), orderstore.Backoff{Min: time.Second, Max: time.Second}, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	orderapi.MakeHTTPHandler(mux, orderapi.MakeServerEndpoints(order.NewService(repo, nopEvents{}, log.NewNopLogger()), nil), log.NewNopLogger())
	orders := httptest.NewServer(mux)
	t.Cleanup(orders.Close)
	client, err := orderapi.NewHTTPClient(orders.URL, &http.Client{Timeout: time.Second}, "")
	if err != nil {
		t.Fatal(err)
	}
	var out testenv.Log
	gw := httptest.NewServer(gateway.MakeHTTPHandler(client, gateway.HandlerOptions{Metrics: prommetrics.NewMetrics("gateway")}, log.NewLogfmtLogger(&out)))
	t.Cleanup(gw.Close)

	body := `{"userId":"u1","productId":"1","productName":"K","totalOrderAmount":1}`
	first := post(t, gw.URL, "application/json", body, "Idempotency-Key", "k1")
	again := post(t, gw.URL, "application/json", body, "Idempotency-Key", "k1")
	id := strings.TrimPrefix(first.Header.Get("Location"), "/orders/one/")
	if first.StatusCode != http.StatusCreated || again.StatusCode != http.StatusCreated || id == "" {
		t.Fatalf("want two 201s with a Location, have %d, %d, %q", first.StatusCode, again.StatusCode, id)
	}
	logged := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(logged) != 2 {
		t.Fatalf("want one line per POST, have %q", logged)
	}
	for i, replayed := range []string{"replayed=false", "replayed=true"} {
		if !strings.Contains(logged[i], "status=201 order_id="+id+" "+replayed) {
			t.Errorf("line %d: want status=201 order_id=%s %s, have %q", i+1, id, replayed, logged[i])
		}
	}
}
