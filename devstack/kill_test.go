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

	"go.mongodb.org/mongo-driver/v2/bson"

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
	logs *testenv.Log

	mu     sync.Mutex
	cmd    *exec.Cmd
	killed []int // pids of the processes killed
}

func (b *binary) start() {
	b.t.Helper()
	cmd := exec.Command(b.path)
	cmd.Env = append(os.Environ(), b.env...)
	cmd.Stderr = b.logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	b.mu.Lock()
	b.cmd = cmd
	b.mu.Unlock()
	// Readiness is asked as the compose health check asks it: by the binary
	// itself, configured by the same environment.
	testenv.Eventually(b.t, 20*time.Second, b.name+" never became ready", func() bool {
		probe := exec.Command(b.path, "probe", "/readyz")
		probe.Env = cmd.Env
		return probe.Run() == nil
	})
}

// kill kills the process at once: no graceful shutdown, as a crash.
func (b *binary) kill() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return
	}
	_ = b.cmd.Process.Kill()
	_ = b.cmd.Wait()
	b.killed = append(b.killed, b.cmd.Process.Pid)
	b.cmd = nil
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

// ledger is what the clients were told: the orders created, and the
// status changes acknowledged or only attempted.
type ledger struct {
	mu        sync.Mutex
	orders    []string
	acked     map[string]string // order id -> status a PUT was answered 200 for
	attempted map[string]bool   // a PUT was sent without an answer: it may have happened
}

// TestKillingAnyProcessOfTwoReplicasLosesNothing runs two replicas of every
// service (each gateway in front of its own ordersvc) while clients create
// orders, cancel some at once, cancel others once paid and confirm others,
// retrying on the other gateway with the same Idempotency-Key when one
// fails. Meanwhile a replica of each service, a gateway or Redis is killed
// with SIGKILL and started again, over and over. In the end every order is
// final and as its client was told, every cancelled paid order is refunded,
// nothing is duplicated, and the payment provider was asked twice about an
// order only when the replica that held it had been killed.
func TestKillingAnyProcessOfTwoReplicasLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: builds and kills processes")
	}
	bin := buildServices(t)
	// Redis wants a password, given apart from its URL as in docker
	// compose and Kubernetes.
	const redisPassword = "s3cret:/@"
	redis, mongoURI := testenv.RedisWithPassword(t, redisPassword), ferretDB(t).URI
	logs := &testenv.Log{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service logs:\n%s", logs)
		}
	})
	redisURL := "redis://" + redis.Addr + "/0"
	newBinary := func(name string, env func(addr string) []string) *binary {
		b := &binary{t: t, name: name, path: filepath.Join(bin, strings.TrimRight(name, "12")), addr: testenv.FreeAddr(t), logs: logs}
		b.env = env(b.addr)
		return b
	}
	var orders, payments, gateways []*binary
	for i := range 2 {
		o := newBinary(fmt.Sprintf("ordersvc%d", i+1), func(addr string) []string {
			return []string{
				"ORDERSVC_HTTP_ADDR=" + addr, "ORDERSVC_MONGO_URI=" + mongoURI,
				"ORDERSVC_REDIS_URL=" + redisURL, "ORDERSVC_REDIS_PASSWORD=" + redisPassword,
				"ORDERSVC_REDELIVER_INTERVAL=100ms", "ORDERSVC_REDELIVER_BACKOFF_MIN=1s", "ORDERSVC_REDELIVER_BACKOFF_MAX=2s",
			}
		})
		p := newBinary(fmt.Sprintf("paymentsvc%d", i+1), func(addr string) []string {
			return []string{
				"PAYMENTSVC_HTTP_ADDR=" + addr, "PAYMENTSVC_MONGO_URI=" + mongoURI,
				"PAYMENTSVC_REDIS_URL=" + redisURL, "PAYMENTSVC_REDIS_PASSWORD=" + redisPassword,
				"PAYMENTSVC_CHARGE_LEASE=3s",
			}
		})
		g := newBinary(fmt.Sprintf("gateway%d", i+1), func(addr string) []string {
			// Many clients share one address here: no limit.
			return []string{"GATEWAY_HTTP_ADDR=" + addr, "GATEWAY_ORDERSVC_URL=http://" + o.addr, "GATEWAY_RATELIMIT_RATE=0"}
		})
		orders, payments, gateways = append(orders, o), append(payments, p), append(gateways, g)
	}
	all := append(append(append([]*binary{}, orders...), payments...), gateways...)
	for _, b := range all {
		b.start()
		t.Cleanup(b.kill)
	}
	bases := []string{"http://" + gateways[0].addr, "http://" + gateways[1].addr}

	const clients, perClient = 4, 24
	l := &ledger{acked: map[string]string{}, attempted: map[string]bool{}}
	var created atomic.Int64
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for c := range clients {
		wg.Go(func() {
			for i := range perClient {
				body := fmt.Sprintf(`{"userId":"client-%d","productId":"1","productName":"Keyboard","totalOrderAmount":"RM %d"}`, c, i+1)
				id := createOnAny(ctx, t, bases, body, fmt.Sprintf("order-%d-%d", c, i))
				if id == "" {
					return
				}
				l.mu.Lock()
				l.orders = append(l.orders, id)
				l.mu.Unlock()
				created.Add(1)
				switch i % 4 {
				case 0: // cancelled at once, racing its payment
					setStatusOnAny(ctx, t, bases, l, id, "Cancelled")
				case 1: // cancelled once paid: refunded
					if waitPaid(ctx, t, bases, id) {
						setStatusOnAny(ctx, t, bases, l, id, "Cancelled")
					}
				case 2: // confirmed once paid
					if waitPaid(ctx, t, bases, id) {
						setStatusOnAny(ctx, t, bases, l, id, "Confirmed")
					}
				}
			}
		})
	}

	// Kill one process after another while orders are being created;
	// progress, not time, decides when.
	after := func(n int64) {
		testenv.Eventually(t, 2*time.Minute, fmt.Sprintf("clients never created %d orders", n), func() bool { return created.Load() >= n })
	}
	victims := []func(){
		func() { payments[0].kill(); payments[0].start() },
		func() { orders[0].kill(); orders[0].start() },
		func() { gateways[1].kill(); gateways[1].start() },
		func() { redis.Kill(); _ = redis.Restart() },
		func() { payments[1].kill(); orders[1].kill(); payments[1].start(); orders[1].start() },
		func() { gateways[0].kill(); gateways[0].start() },
		func() { orders[0].kill(); payments[0].kill(); orders[0].start(); payments[0].start() },
		func() { payments[1].kill(); payments[1].start() },
		func() { orders[1].kill(); orders[1].start() },
	}
	for i, kill := range victims {
		after(int64(6 + i*9))
		kill()
	}
	wg.Wait()

	total := clients * perClient
	if len(l.orders) != total {
		t.Fatalf("want %d orders created, have %d", total, len(l.orders))
	}
	s := &system{t: t, gatewayURL: bases[0], mongoURI: mongoURI, logs: logs}
	for _, id := range l.orders {
		want, acked := l.acked[id]
		var final func(o, p string) bool
		switch {
		case acked && want == "Cancelled":
			final = func(o, p string) bool { return o == "Cancelled" && p == "Refunded" }
		case acked && want == "Confirmed":
			final = func(o, p string) bool { return o == "Confirmed" && p == "Paid" }
		case l.attempted[id]: // a PUT without an answer may or may not have happened
			final = func(o, p string) bool {
				return (o == "Success" && p == "Paid") || (o == "Cancelled" && p == "Refunded") || (o == "Confirmed" && p == "Paid")
			}
		default:
			final = func(o, p string) bool { return o == "Success" && p == "Paid" }
		}
		testenv.Eventually(t, time.Minute, "order "+id+" never reached its final status (want "+want+")", func() bool {
			o, p, ok := s.statusNow(id)
			return ok && final(o, p)
		})
	}
	for c := range clients {
		r := s.do("GET", fmt.Sprintf("/orders/client-%d?limit=200", c), "")
		if n := len(r.body["orders"].([]any)); n != perClient {
			t.Errorf("client-%d: want %d orders, have %d (a retry created a second order?)", c, perClient, n)
		}
	}

	// The provider was asked again only after a replica holding the order
	// was killed: every attempt but the last of an order's work was made
	// by a process that died.
	killed := map[string]bool{}
	for _, p := range payments {
		for _, pid := range p.killed {
			killed[fmt.Sprintf("/%d", pid)] = true
		}
	}
	cur, err := mongoClient(t, mongoURI).Database("payments").Collection("payment_attempts").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var attempts []struct {
		ID      string `bson:"_id"`
		Replica string `bson:"replica"`
	}
	if err := cur.All(ctx, &attempts); err != nil {
		t.Fatal(err)
	}
	last := map[string]int{} // "<order>/<work>" -> highest attempt
	by := map[string]string{}
	for _, a := range attempts {
		work, n := a.ID[:strings.LastIndex(a.ID, "/")], 0
		fmt.Sscanf(a.ID[len(work)+1:], "%d", &n)
		last[work], by[a.ID] = max(last[work], n), a.Replica
	}
	taken := 0
	for work, n := range last {
		if n > 1 {
			taken++
		}
		for i := 1; i < n; i++ {
			replica := by[fmt.Sprintf("%s/%d", work, i)]
			if !killed[replica[strings.LastIndex(replica, "/"):]] {
				t.Errorf("%s: attempt %d of %d was made by %s, which was never killed: the provider was asked twice with no replica dead", work, i, n, replica)
			}
		}
	}
	cancelled, confirmed := 0, 0
	for _, status := range l.acked {
		if status == "Cancelled" {
			cancelled++
		} else {
			confirmed++
		}
	}
	t.Logf("%d orders: %d cancels and %d confirmations acknowledged; %d charges or refunds taken over from a killed replica", total, cancelled, confirmed, taken)
}

// createOnAny posts an order until a gateway answers 201, as a careful
// client does: on a failure it tries the other gateway, and the
// Idempotency-Key makes every retry safe.
func createOnAny(ctx context.Context, t *testing.T, bases []string, body, key string) string {
	for try := 0; ctx.Err() == nil; try++ {
		req, _ := http.NewRequestWithContext(ctx, "POST", bases[try%len(bases)]+"/orders", stringsReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			r := readResponse(resp)
			if r.body != nil { // a gateway killed mid-answer leaves it cut short
				checkContract(t, req, []byte(body), resp, []byte(r.raw))
			}
			if r.status == http.StatusCreated {
				return r.body["created"].(map[string]any)["id"].(string)
			}
			if r.status < 500 {
				t.Errorf("POST %s: %d %s", key, r.status, r.raw)
				return ""
			}
		}
		time.Sleep(20 * time.Millisecond) // a client's retry backoff
	}
	t.Errorf("POST %s never succeeded", key)
	return ""
}

// setStatusOnAny asks for the order's status until a gateway answers, and
// records what it was told.
func setStatusOnAny(ctx context.Context, t *testing.T, bases []string, l *ledger, id, status string) {
	body := `{"orderId":"` + id + `","orderStatus":"` + status + `"}`
	for try := 0; ctx.Err() == nil; try++ {
		l.mu.Lock()
		l.attempted[id] = true
		l.mu.Unlock()
		req, _ := http.NewRequestWithContext(ctx, "PUT", bases[try%len(bases)]+"/orders", stringsReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			r := readResponse(resp)
			if r.body != nil { // a gateway killed mid-answer leaves it cut short
				checkContract(t, req, []byte(body), resp, []byte(r.raw))
			}
			switch {
			case r.status == http.StatusOK:
				l.mu.Lock()
				l.acked[id] = status
				l.mu.Unlock()
				return
			case r.status < 500:
				return // refused: the order did not change
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitPaid polls the order on any gateway until it is Success/Paid, and
// reports whether it got there.
func waitPaid(ctx context.Context, t *testing.T, bases []string, id string) bool {
	for try := 0; ctx.Err() == nil; try++ {
		resp, err := http.Get(bases[try%len(bases)] + "/orders/status/" + id)
		if err == nil {
			r := readResponse(resp)
			if r.body != nil { // a gateway killed mid-answer leaves it cut short
				checkContract(t, resp.Request, nil, resp, []byte(r.raw))
			}
			if r.status == http.StatusOK && r.body["orderStatus"] == "Success" && r.body["paymentStatus"] == "Paid" {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}
