package devstack_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/testenv"
)

// binary is a service running as its own process, configured through its
// environment variables as in docker compose and Kubernetes.
type binary struct {
	t    *testing.T
	name string
	path string
	addr string
	env  []string
	logs *syncBuffer
	cmd  *exec.Cmd
}

func (b *binary) start() {
	b.t.Helper()
	b.cmd = exec.Command(b.path)
	b.cmd.Env = append(os.Environ(), b.env...)
	b.cmd.Stderr = b.logs
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := b.cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	// Readiness is asked as the compose health check asks it: by the binary
	// itself, configured by the same environment.
	testenv.Eventually(b.t, 15*time.Second, b.name+" never became ready", func() bool {
		probe := exec.Command(b.path, "probe", "/readyz")
		probe.Env = b.cmd.Env
		return probe.Run() == nil
	})
}

// kill kills the process at once: no graceful shutdown, as a crash.
func (b *binary) kill() {
	_ = b.cmd.Process.Kill()
	_ = b.cmd.Wait()
}

// buildServices builds the three service binaries into a temporary folder.
func buildServices(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator),
		"github.com/orderflow/orderflow/gateway/cmd/gateway",
		"github.com/orderflow/orderflow/ordersvc/cmd/ordersvc",
		"github.com/orderflow/orderflow/paymentsvc/cmd/paymentsvc")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// TestKillingAnyPartMidFlowLosesNothing creates orders from several clients
// while paymentsvc, ordersvc and Redis are each killed and started again.
// Clients retry with their Idempotency-Key until they get a 201. In the end
// every order is paid, and charged once.
func TestKillingAnyPartMidFlowLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: builds and kills processes")
	}
	bin := buildServices(t)
	// Redis wants a password, given apart from its URL as in docker
	// compose and Kubernetes.
	const redisPassword = "s3cret:/@"
	redis, mongoURI := testenv.RedisWithPassword(t, redisPassword), testenv.FerretDB(t)
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service logs:\n%s", logs)
		}
	})
	redisURL := "redis://" + redis.Addr + "/0"
	orders := &binary{t: t, name: "ordersvc", path: filepath.Join(bin, "ordersvc"), addr: testenv.FreeAddr(t), logs: logs}
	orders.env = []string{
		"ORDERSVC_HTTP_ADDR=" + orders.addr, "ORDERSVC_MONGO_URI=" + mongoURI,
		"ORDERSVC_REDIS_URL=" + redisURL, "ORDERSVC_REDIS_PASSWORD=" + redisPassword,
		"ORDERSVC_REDELIVER_INTERVAL=50ms", "ORDERSVC_REDELIVER_BACKOFF_MIN=200ms", "ORDERSVC_REDELIVER_BACKOFF_MAX=1s",
	}
	payments := &binary{t: t, name: "paymentsvc", path: filepath.Join(bin, "paymentsvc"), addr: testenv.FreeAddr(t), logs: logs}
	payments.env = []string{
		"PAYMENTSVC_HTTP_ADDR=" + payments.addr, "PAYMENTSVC_MONGO_URI=" + mongoURI,
		"PAYMENTSVC_REDIS_URL=" + redisURL, "PAYMENTSVC_REDIS_PASSWORD=" + redisPassword,
		"PAYMENTSVC_CHARGE_LEASE=1s",
	}
	gw := &binary{t: t, name: "gateway", path: filepath.Join(bin, "gateway"), addr: testenv.FreeAddr(t), logs: logs}
	gw.env = []string{"GATEWAY_HTTP_ADDR=" + gw.addr, "GATEWAY_ORDERSVC_URL=http://" + orders.addr}
	for _, b := range []*binary{orders, payments, gw} {
		b.start()
		t.Cleanup(b.kill)
	}

	const clients, perClient = 4, 15
	var (
		created atomic.Int64
		mu      sync.Mutex
		ids     []string
		wg      sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for c := range clients {
		wg.Go(func() {
			for i := range perClient {
				body := fmt.Sprintf(`{"userId":"client-%d","productId":"1","productName":"Keyboard","totalOrderAmount":"RM %d"}`, c, i+1)
				id := createWithRetry(ctx, t, "http://"+gw.addr, body, fmt.Sprintf("order-%d-%d", c, i))
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
				created.Add(1)
			}
		})
	}

	// Kill each part while orders are being created; progress, not time,
	// decides when.
	after := func(n int64) {
		testenv.Eventually(t, time.Minute, fmt.Sprintf("clients never created %d orders", n), func() bool { return created.Load() >= n })
	}
	after(5)
	payments.kill()
	after(12)
	payments.start()
	after(20)
	orders.kill()
	orders.start()
	after(30)
	redis.Kill()
	after(36)
	if err := redis.Start(); err != nil {
		t.Fatal(err)
	}
	after(44)
	payments.kill()
	orders.kill()
	payments.start()
	orders.start()
	wg.Wait()

	if len(ids) != clients*perClient {
		t.Fatalf("want %d orders, have %d", clients*perClient, len(ids))
	}
	s := &system{t: t, gatewayURL: "http://" + gw.addr, mongoURI: mongoURI, logs: logs}
	for _, id := range ids {
		s.waitStatus(id, "Success", "Paid", 30*time.Second)
		if n := s.paymentRecords(id); n != 1 {
			t.Errorf("order %s has %d payments", id, n)
		}
	}
	for c := range clients {
		r := s.do("GET", fmt.Sprintf("/orders/client-%d?limit=200", c), "")
		if n := len(r.body["orders"].([]any)); n != perClient {
			t.Errorf("client-%d: want %d orders, have %d (a retry created a second order?)", c, perClient, n)
		}
	}
}

// createWithRetry posts an order until the gateway answers 201, as a careful
// client does: the Idempotency-Key makes every retry safe. It retries 5xx
// answers, and the 409 of a key whose first request is still in progress
// (or died: the key is then taken over after a few seconds).
func createWithRetry(ctx context.Context, t *testing.T, base, body, key string) string {
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/orders", stringsReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			r := readResponse(resp)
			if r.status == http.StatusCreated {
				return r.body["created"].(map[string]any)["id"].(string)
			}
			inProgress := r.status == http.StatusConflict && strings.Contains(r.raw, "idempotency_key_in_progress")
			if r.status < 500 && !inProgress {
				t.Errorf("POST %s: %d %s", key, r.status, r.raw)
				return ""
			}
		}
		time.Sleep(20 * time.Millisecond) // a client's retry backoff
	}
	t.Errorf("POST %s never succeeded", key)
	return ""
}
