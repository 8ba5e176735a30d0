package flowweb_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/flowsvc/flow"
	"github.com/orderflow/orderflow/flowsvc/flowweb"
)

// received is what the fake gateway was sent.
type received struct {
	method, path, body, contentType, key, forwardedFor string
}

func TestTheProxyPassesOrdersToTheGatewayAndItsAnswerBack(t *testing.T) {
	calls := make(chan received, 1)
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		calls <- received{r.Method, r.URL.Path, string(body), r.Header.Get("Content-Type"), r.Header.Get("Idempotency-Key"), r.Header.Get("X-Forwarded-For")}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("WWW-Authenticate", `Bearer realm="orders"`)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"ok":false,"error":{"code":"unauthorized","message":"Sign in: send Authorization: Bearer <token>."}}`+"\n")
	}))
	defer gateway.Close()
	srv, _ := newServer(t, flow.NewBoard(flow.Options{}), gateway.URL, nil)

	for _, method := range []string{"POST", "PUT"} {
		body := `{"userId":"demo","productId":"1","productName":"Demo keyboard","totalOrderAmount":"RM 12.50"}`
		req, _ := http.NewRequest(method, srv.URL+"/orders", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "k1")
		req.Header.Set("Cookie", "session=secret") // not the gateway's business
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()

		have := <-calls
		want := received{method, "/orders", body, "application/json", "k1", "127.0.0.1"}
		if have != want {
			t.Errorf("%s: the gateway got %+v, want %+v", method, have, want)
		}
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" ||
			string(answer) != `{"ok":false,"error":{"code":"unauthorized","message":"Sign in: send Authorization: Bearer <token>."}}`+"\n" {
			t.Errorf("%s: want the gateway's 401 unchanged, have %s %v %s", method, resp.Status, resp.Header, answer)
		}
	}
}

func TestTheProxySaysSoWhenTheGatewayDoesNotAnswer(t *testing.T) {
	gateway := httptest.NewServer(http.NotFoundHandler())
	gateway.Close() // nothing listens there now
	srv, _ := newServer(t, flow.NewBoard(flow.Options{}), gateway.URL, nil)
	resp, err := http.Post(srv.URL+"/orders", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), `"code":"gateway_unavailable"`) || strings.Contains(string(body), "127.0.0.1") {
		t.Errorf("want a 502 gateway_unavailable naming no address, have %s %s", resp.Status, body)
	}
}

func TestTheProxyRefusesABodyTooLargeForTheAPI(t *testing.T) {
	var called atomic.Bool
	gateway := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called.Store(true) }))
	defer gateway.Close()
	srv, _ := newServer(t, flow.NewBoard(flow.Options{}), gateway.URL, nil)
	resp, err := http.Post(srv.URL+"/orders", "application/json", strings.NewReader(strings.Repeat(" ", 65<<10)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || called.Load() {
		t.Errorf("want a 413 and no call of the gateway, have %s (called: %v)", resp.Status, called.Load())
	}
}

func TestTheGatewayCheckAsksItsHealth(t *testing.T) {
	var healthy atomic.Bool
	healthy.Store(true)
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" || !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer gateway.Close()
	p := flowweb.NewProxy(gateway.URL, &http.Client{Timeout: 5 * time.Second}, log.NewNopLogger())
	if err := p.Check(context.Background()); err != nil {
		t.Errorf("a healthy gateway: %v", err)
	}
	healthy.Store(false)
	if err := p.Check(context.Background()); err == nil {
		t.Error("an unhealthy gateway passes the check")
	}
}
