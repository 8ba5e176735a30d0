package devstack_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/devstack"
	"github.com/orderflow/orderflow/gateway"
	"github.com/orderflow/orderflow/internal/redisserver"
	"github.com/orderflow/orderflow/ordersvc/orderstore"

	"github.com/orderflow/orderflow/internal/process"
	"github.com/orderflow/orderflow/internal/telemetry"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ordersvc"
	"github.com/orderflow/orderflow/paymentsvc"
)

// system is the whole order system on real servers: a private
// redis-server, an embedded FerretDB, and the three services' production
// graphs on their own ports, each of which the test can stop and start.
type system struct {
	t        testing.TB
	redis    *redisserver.Server
	mongo    *devstack.FerretDB
	mongoURI string
	logs     *testenv.Log

	gatewayURL string
	orders     *inProcess
	payments   *inProcess
	gateway    *inProcess
}

// inProcess is one service running in the test process.
type inProcess struct {
	name   string
	addr   string
	run    func(ctx context.Context) error
	cancel context.CancelFunc
	done   chan error
}

// startSystem starts everything but paymentsvc when withPayments is false.
func startSystem(t testing.TB, withPayments bool) *system {
	t.Helper()
	return startTracedSystem(t, withPayments, nil)
}

// startTracedSystem is startSystem with the services tracing with tracing.
func startTracedSystem(t testing.TB, withPayments bool, tracing *telemetry.Tracing) *system {
	t.Helper()
	s := &system{t: t, redis: testenv.Redis(t), mongo: ferretDB(t), logs: &testenv.Log{}}
	s.mongoURI = s.mongo.URI
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service logs:\n%s", s.logs)
		}
	})
	redisURL := "redis://" + s.redis.Addr + "/0"

	ordersCfg, paymentsCfg, gatewayCfg := devstack.Defaults()
	ordersCfg.HTTPAddr, ordersCfg.Mongo.URI, ordersCfg.Redis.URL = testenv.FreeAddr(t), s.mongoURI, redisURL
	ordersCfg.RedeliverInterval = 50 * time.Millisecond
	ordersCfg.Backoff = orderstore.Backoff{Min: 200 * time.Millisecond, Max: time.Second}
	paymentsCfg.HTTPAddr, paymentsCfg.Mongo.URI, paymentsCfg.Redis.URL = testenv.FreeAddr(t), s.mongoURI, redisURL
	gatewayCfg.HTTPAddr, gatewayCfg.OrdersURL = testenv.FreeAddr(t), "http://"+ordersCfg.HTTPAddr
	gatewayCfg.RateLimit.Rate = 0 // the tests' many users share one address
	for _, d := range []*time.Duration{&ordersCfg.ShutdownTimeout, &paymentsCfg.ShutdownTimeout, &gatewayCfg.ShutdownTimeout} {
		*d = time.Second
	}
	s.gatewayURL = "http://" + gatewayCfg.HTTPAddr
	s.orders = &inProcess{name: "ordersvc", addr: ordersCfg.HTTPAddr, run: func(ctx context.Context) error {
		return ordersvc.Run(ctx, ordersCfg, s.logger("ordersvc"), tracing)
	}}
	s.payments = &inProcess{name: "paymentsvc", addr: paymentsCfg.HTTPAddr, run: func(ctx context.Context) error {
		return paymentsvc.Run(ctx, paymentsCfg, s.logger("paymentsvc"), tracing)
	}}
	s.gateway = &inProcess{name: "gateway", addr: gatewayCfg.HTTPAddr, run: func(ctx context.Context) error {
		return gateway.Run(ctx, gatewayCfg, s.logger("gateway"), tracing)
	}}

	s.start(s.orders)
	if withPayments {
		s.start(s.payments)
	}
	s.start(s.gateway)
	return s
}

func (s *system) logger(name string) log.Logger { return process.NewLogger(s.logs, name) }

// start runs p and waits until it is ready.
func (s *system) start(p *inProcess) {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan error, 1)
	go func() { p.done <- p.run(ctx) }()
	s.t.Cleanup(func() { s.stop(p) })
	testenv.Eventually(s.t, 10*time.Second, p.name+" never became ready", func() bool {
		select {
		case err := <-p.done:
			p.cancel = nil // nothing left to stop
			s.t.Fatalf("%s exited: %v", p.name, err)
		default:
		}
		// ordersvc is ready before it is subscribed; the tests want it both.
		return s.ready(p) && s.dependency(p, "subscription") != "failing"
	})
}

// stop stops p, as SIGTERM would, and waits until it has.
func (s *system) stop(p *inProcess) {
	if p.cancel == nil {
		return
	}
	p.cancel()
	if err := <-p.done; err != nil {
		s.t.Errorf("%s stopped with %v", p.name, err)
	}
	p.cancel = nil
}

func (s *system) ready(p *inProcess) bool { return answers200("http://" + p.addr + "/readyz") }

// dependency returns what p's /readyz says of one of its dependencies:
// "ok", "failing", or "" when it says nothing.
func (s *system) dependency(p *inProcess, name string) string {
	resp, err := http.Get("http://" + p.addr + "/readyz")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var b struct{ Dependencies map[string]string }
	if json.NewDecoder(resp.Body).Decode(&b) != nil {
		return ""
	}
	return b.Dependencies[name]
}

// answers200 reports whether a GET of url answers 200.
func answers200(url string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// response is an HTTP answer of the gateway.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends a request to the gateway; a body is sent as JSON unless a
// Content-Type header says otherwise.
func (s *system) do(method, path, body string, headers ...string) response {
	s.t.Helper()
	return doHTTP(s.t, s.gatewayURL, method, path, body, headers...)
}

func doHTTP(t testing.TB, base, method, path, body string, headers ...string) response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out := readResponse(resp)
	checkContract(t, req, []byte(body), resp, []byte(out.raw))
	return out
}

func readResponse(resp *http.Response) response {
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

// createOrder posts an order of product and returns its id.
func (s *system) createOrder(user, product string, headers ...string) string {
	s.t.Helper()
	r := s.do("POST", "/orders", `{"userId":"`+user+`","productId":"`+product+`","productName":"Keyboard","totalOrderAmount":"RM 99"}`, headers...)
	if r.status != http.StatusCreated {
		s.t.Fatalf("POST /orders: want 201, have %d %s", r.status, r.raw)
	}
	return r.body["created"].(map[string]any)["id"].(string)
}

// status returns the order's status and payment status.
func (s *system) status(id string) (string, string) {
	s.t.Helper()
	r := s.do("GET", "/orders/status/"+id, "")
	if r.status != http.StatusOK {
		s.t.Fatalf("GET /orders/status/%s: want 200, have %d %s", id, r.status, r.raw)
	}
	return r.body["orderStatus"].(string), r.body["paymentStatus"].(string)
}

// statusNow returns the order's statuses, and false when the gateway could
// not answer (a replica just restarted: its breaker may still be open).
func (s *system) statusNow(id string) (string, string, bool) {
	s.t.Helper()
	r := s.do("GET", "/orders/status/"+id, "")
	switch {
	case r.status == http.StatusOK:
		return r.body["orderStatus"].(string), r.body["paymentStatus"].(string), true
	case r.status >= 500:
		return "", "", false
	}
	s.t.Fatalf("GET /orders/status/%s: want 200, have %d %s", id, r.status, r.raw)
	return "", "", false
}

// waitStatus polls until the order has the wanted statuses.
func (s *system) waitStatus(id, wantOrder, wantPayment string, timeout time.Duration) {
	s.t.Helper()
	testenv.Eventually(s.t, timeout, "order "+id+" never became "+wantOrder+"/"+wantPayment, func() bool {
		o, p := s.status(id)
		return o == wantOrder && p == wantPayment
	})
}

// logCount counts the log lines of svc that mention the order and msg.
func (s *system) logCount(svc, orderID, msg string) int {
	n := 0
	for _, line := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(line, "svc="+svc+" ") && strings.Contains(line, orderID) && strings.Contains(line, msg) {
			n++
		}
	}
	return n
}
