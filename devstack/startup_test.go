package devstack_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/devstack"
	"github.com/orderflow/orderflow/gateway"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ordersvc"
	"github.com/orderflow/orderflow/paymentsvc"
)

func TestAServiceGivesUpWhenMongoDBStaysUnreachable(t *testing.T) {
	t.Parallel()
	redis := testenv.Redis(t)
	dead := testenv.FreeAddr(t) // nothing listens there
	_, cfg, _ := devstack.Defaults()
	cfg.HTTPAddr, cfg.Mongo.URI, cfg.Redis.URL = testenv.FreeAddr(t), "mongodb://app:s3cret@"+dead, "redis://"+redis.Addr
	// A deadline of the caller cuts the wait for the store short.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	begin := time.Now()
	err := paymentsvc.Run(ctx, cfg, log.NewNopLogger(), nil)
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("gave up after %v, not at the caller's deadline", took)
	}
	if err == nil || !strings.Contains(err.Error(), "mongodb unreachable at mongodb://app:xxxxx@"+dead) {
		t.Errorf("want an error naming the server without its password, have %v", err)
	}
}

// A service started before its MongoDB, as in a new cluster, waits for it.
func TestAServiceWaitsForAMongoDBThatIsStarting(t *testing.T) {
	t.Parallel()
	redis := testenv.Redis(t)
	mongoAddr := testenv.FreeAddr(t)
	cfg, _, _ := devstack.Defaults()
	cfg.HTTPAddr, cfg.Mongo.URI, cfg.Redis.URL = testenv.FreeAddr(t), "mongodb://"+mongoAddr, "redis://"+redis.Addr
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ordersvc.Run(ctx, cfg, log.NewNopLogger(), nil) }()

	// Until it is up, the address refuses the service's connections; it
	// comes up once the service has been trying for longer than one ping
	// may take (2 seconds of server selection).
	refusing, err := net.Listen("tcp", mongoAddr)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var first, last time.Time
	go func() {
		for {
			conn, err := refusing.Accept()
			if err != nil {
				return
			}
			conn.Close()
			mu.Lock()
			if first.IsZero() {
				first = time.Now()
			}
			last = time.Now()
			mu.Unlock()
		}
	}()
	testenv.Eventually(t, 15*time.Second, "ordersvc stopped trying MongoDB", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return last.Sub(first) > 3*time.Second
	})
	refusing.Close()
	f, err := startFerretDB(mongoAddr, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	testenv.Eventually(t, 15*time.Second, "ordersvc never became ready", func() bool {
		return answers200("http://" + cfg.HTTPAddr + "/readyz")
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ordersvc: %v", err)
	}
}

func TestAServiceGivesUpWhenRedisStaysUnreachable(t *testing.T) {
	t.Parallel()
	uri := ferretDB(t).URI
	dead := testenv.FreeAddr(t) // nothing listens there
	cfg, _, _ := devstack.Defaults()
	cfg.HTTPAddr, cfg.Mongo.URI, cfg.Redis.URL = testenv.FreeAddr(t), uri, "redis://"+dead+"/0"
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	begin := time.Now()
	err := ordersvc.Run(ctx, cfg, log.NewNopLogger(), nil)
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("gave up after %v, not at the caller's deadline", took)
	}
	if err == nil || !strings.Contains(err.Error(), "redis unreachable at redis://"+dead) {
		t.Errorf("want an error naming the server, have %v", err)
	}
}

func TestRunRefusesABusyPortBeforeStartingAnything(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := devstack.Config{
		DataDir: t.TempDir(), MongoAddr: testenv.FreeAddr(t), RedisAddr: testenv.FreeAddr(t),
		GatewayAddr: ln.Addr().String(), OrdersvcAddr: testenv.FreeAddr(t), PaymentsvcAddr: testenv.FreeAddr(t),
	}
	err = devstack.Run(context.Background(), cfg, &strings.Builder{}, nil)
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) || !strings.Contains(err.Error(), "GATEWAY_ADDR") {
		t.Errorf("want an error naming the port and GATEWAY_ADDR, have %v", err)
	}
}

func TestTheGatewayCanServeMetricsApartFromThePublicAPI(t *testing.T) {
	_, _, cfg := devstack.Defaults()
	cfg.HTTPAddr, cfg.MetricsAddr, cfg.OrdersURL = testenv.FreeAddr(t), testenv.FreeAddr(t), "http://"+testenv.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gateway.Run(ctx, cfg, log.NewNopLogger(), nil) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway: %v", err)
		}
	}()

	public, metrics := "http://"+cfg.HTTPAddr, "http://"+cfg.MetricsAddr
	testenv.Eventually(t, 5*time.Second, "the gateway never answered", func() bool {
		return answers200(public + "/healthz")
	})
	if r := doHTTP(t, public, "GET", "/metrics", ""); r.status != http.StatusNotFound {
		t.Errorf("public /metrics: want 404, have %d %s", r.status, r.raw)
	}
	r := doHTTP(t, metrics, "GET", "/metrics", "")
	if want := `gateway_http_requests_total{method="GET",route="GET /healthz",status="200"}`; r.status != http.StatusOK || !strings.Contains(r.raw, want) {
		t.Errorf("want %s on -metrics.addr, have %d %s", want, r.status, r.raw)
	}
}

// Each counter a dashboard or alert would use is on /metrics from the
// start, at 0, before anything it counts happened.
func TestEveryCounterIsOnMetricsFromTheStart(t *testing.T) {
	s := startSystem(t, true)
	for _, tc := range []struct{ addr, series string }{
		{s.orders.addr, "ordersvc_redeliveries_total 0"},
		{s.orders.addr, `ordersvc_messages_total{channel="payments.processed",result="handled"} 0`},
		{s.orders.addr, `ordersvc_messages_total{channel="payments.refunded",result="failed"} 0`},
		{s.orders.addr, `ordersvc_api_requests_total{error="false",method="SetStatus"} 0`},
		{s.payments.addr, `paymentsvc_messages_total{channel="orders.created",result="handled"} 0`},
		{s.payments.addr, `paymentsvc_messages_total{channel="orders.cancelled",result="dropped"} 0`},
	} {
		if r := doHTTP(t, "http://"+tc.addr, "GET", "/metrics", ""); !strings.Contains(r.raw, tc.series) {
			t.Errorf("want %s on %s/metrics", tc.series, tc.addr)
		}
	}
}

// AUTH_HS256_SECRET turns sign-in on for make run; one too short to be safe
// stops it before anything starts.
func TestMakeRunRefusesAGuessableSecret(t *testing.T) {
	cfg := devstack.Config{
		DataDir: t.TempDir(), MongoAddr: testenv.FreeAddr(t), RedisAddr: testenv.FreeAddr(t),
		GatewayAddr: testenv.FreeAddr(t), OrdersvcAddr: testenv.FreeAddr(t), PaymentsvcAddr: testenv.FreeAddr(t),
		AuthSecret: "short", RateLimit: 20,
	}
	err := devstack.Run(context.Background(), cfg, &strings.Builder{}, nil)
	if err == nil || !strings.Contains(err.Error(), "-auth.hs256.secret") {
		t.Errorf("want an error naming -auth.hs256.secret, have %v", err)
	}
}
