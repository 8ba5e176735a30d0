package devstack_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/orderflow/orderflow/internal/testenv"
)

// An operator's worst day: two replicas each of the gateway, ordersvc and
// paymentsvc, one Redis and one embedded FerretDB, each a process of its
// own. Clients place orders through both gateways, cancel some at once,
// cancel others once paid and confirm others, retrying on the other gateway
// with the same Idempotency-Key when one fails. First without kills, to
// know the system's pace; then, while they go on, one process at random,
// the store and Redis included, is killed with SIGKILL every ~2 s and
// started again 0.3 to 2 s later.
//
// In the end: every order a client was told of exists once and is final,
// as its client was told, within 30 s of the last kill; every cancelled
// paid order is refunded; asked as a provider, under leases, the demo
// rule was asked twice about an order only when the replica that held it,
// or the store, had been killed; the pace during the kills was at least a
// third of the pace without; and the outbox empties.
//
// It runs twice: with the demo rule asked at once, as deployed, and asked
// as a payment provider is (-charge.leased). make test runs it short (every kind of process killed at least once);
// make chaos runs it for thousands of orders and prints its report:
// CHAOS_ORDERS orders during the kills, CHAOS_BASELINE before them,
// CHAOS_CLIENTS clients at once.
func TestTheOperatorsWorstDayLosesNothingAndSettlesWithinSeconds(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: builds and kills processes")
	}
	cfg := chaosConfig{clients: envInt(t, "CHAOS_CLIENTS", 16), baseline: envInt(t, "CHAOS_BASELINE", 150), orders: envInt(t, "CHAOS_ORDERS", 350)}
	// paymentsvc asks the demo rule at once, as it is deployed, and then as
	// it asks a payment provider: under the lease of an attempt it claims.
	t.Run("the demo rule", func(t *testing.T) { worstDay(t, cfg, false) })
	t.Run("the demo rule as a provider, under leases", func(t *testing.T) { worstDay(t, cfg, true) })
}

func worstDay(t *testing.T, cfg chaosConfig, leased bool) {
	const redisPassword = "s3cret:/@" // given apart from the URL, as in compose and Kubernetes
	redis := testenv.RedisWithPassword(t, redisPassword)
	st := startChaosStack(t, "redis://"+redis.Addr+"/0", redisPassword, "PAYMENTSVC_CHARGE_LEASED="+strconv.FormatBool(leased))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	ld := startLoad(ctx, t, st, cfg.clients)

	// The pace without kills, then the kills while the rest is placed.
	begin := time.Now()
	testenv.Eventually(t, 10*time.Minute, "the clients never placed the orders before the kills", func() bool { return ld.made.Load() >= int64(cfg.baseline) })
	calm := rate(ld.made.Load(), time.Since(begin))
	chaosBegin, chaosMade := time.Now(), ld.made.Load()
	kills := st.killUntil(t, &redisProc{redis}, func() bool { return ld.made.Load()-chaosMade >= int64(cfg.orders) })
	stormy := rate(ld.made.Load()-chaosMade, time.Since(chaosBegin))
	lastKill := time.Now()
	ld.finish()
	if t.Failed() {
		return
	}
	out := st.verify(ctx, t, ld, lastKill)
	if n := st.attempts(t, ctx); (n > 0) != leased {
		t.Errorf("with -charge.leased %v, paymentsvc claimed %d attempts", leased, n)
	}
	if stormy < calm/3 {
		t.Errorf("the pace collapsed under the kills: %.1f orders/s, against %.1f without", stormy, calm)
	}

	asked := "the demo rule asked at once"
	if leased {
		asked = fmt.Sprintf("asked of the provider twice with nothing dead %d", out.twice)
	}
	report := []string{
		"chaos: two replicas each of the gateway, ordersvc and paymentsvc, a Redis and the embedded FerretDB, each a process; SIGKILL of one every ~2 s",
		fmt.Sprintf("kills: %s", kills),
		fmt.Sprintf("orders: %d (%d before the kills) by %d clients; lost 0, duplicated %d, %s",
			len(ld.l.orders), cfg.baseline, cfg.clients, out.duplicated, asked),
		fmt.Sprintf("created/s: %.1f before the kills, %.1f during them (%.2f of it)", calm, stormy, stormy/calm),
		fmt.Sprintf("final after the last kill: all within %s (p50 %s, p99 %s); not final 30 s after it: %d",
			percentile(out.sinceTrouble, 1), percentile(out.sinceTrouble, 0.5), percentile(out.sinceTrouble, 0.99), out.late),
		fmt.Sprintf("created to final: p50 %s, p99 %s, slowest %s", percentile(out.settleTimes, 0.5), percentile(out.settleTimes, 0.99), percentile(out.settleTimes, 1)),
	}
	t.Log("\n" + strings.Join(report, "\n"))
}

// load is the clients of a test of the stack. Each places orders one after
// another until told to stop, retrying on the other gateway with the same
// Idempotency-Key when one fails, and then, by the order's number, cancels
// it at once (racing its payment), cancels it once paid (a refund),
// confirms it once paid, or leaves it; one order in eight is of the
// product the demo rule declines.
type load struct {
	l       *ledger
	clients int
	made    atomic.Int64 // orders placed
	stop    atomic.Bool
	wg      sync.WaitGroup
}

func startLoad(ctx context.Context, t *testing.T, st *chaosStack, clients int) *load {
	ld := &load{l: &ledger{acked: map[string]string{}, attempted: map[string]bool{}, created: map[string]time.Time{}, declined: map[string]bool{}}, clients: clients}
	var taken atomic.Int64
	for c := range clients {
		ld.wg.Go(func() {
			for ctx.Err() == nil && !ld.stop.Load() {
				n := taken.Add(1)
				product := "1"
				if n%8 == 7 {
					product = "2" // declined
				}
				body := fmt.Sprintf(`{"userId":"client-%d","productId":"%s","productName":"Keyboard","totalOrderAmount":"RM %d"}`, c, product, n%500+1)
				id := createOnAny(ctx, t, st.bases, body, fmt.Sprintf("order-%d-%d", c, n))
				if id == "" {
					return
				}
				ld.l.add(id, c, product == "2")
				ld.made.Add(1)
				switch n % 4 {
				case 0: // cancelled at once, racing its payment
					setStatusOnAny(ctx, t, st.bases, ld.l, id, "Cancelled")
				case 1: // cancelled once paid: refunded
					if waitPaid(ctx, t, st.bases, id) {
						setStatusOnAny(ctx, t, st.bases, ld.l, id, "Cancelled")
					}
				case 2: // confirmed once paid
					if waitPaid(ctx, t, st.bases, id) {
						setStatusOnAny(ctx, t, st.bases, ld.l, id, "Confirmed")
					}
				}
			}
		})
	}
	return ld
}

// finish stops the clients and waits for them.
func (ld *load) finish() {
	ld.stop.Store(true)
	ld.wg.Wait()
}

// outcome is what verify found.
type outcome struct {
	duplicated, twice, late int
	// sinceTrouble is, for each order, how long after the trouble ended
	// it became final (0 if before); settleTimes from its creation.
	sinceTrouble, settleTimes []time.Duration
	final                     map[string]settled
}

// verify checks what the clients of ld were told, once the trouble of a
// test ended at troubleEnd: every order exists once and is final as its
// client was told, within 30 s; every cancelled paid order is refunded;
// the payment provider was asked twice about an order only when the
// replica that held it, or the store, had been killed; and the outbox
// empties.
func (st *chaosStack) verify(ctx context.Context, t *testing.T, ld *load, troubleEnd time.Time) outcome {
	t.Helper()
	l := ld.l
	var out outcome
	out.final = st.settle(t, l, troubleEnd.Add(30*time.Second))
	var late []string
	for id, o := range out.final {
		out.sinceTrouble = append(out.sinceTrouble, max(0, o.at.Sub(troubleEnd)))
		out.settleTimes = append(out.settleTimes, o.at.Sub(l.created[id]))
		if o.at.After(troubleEnd.Add(30 * time.Second)) {
			late = append(late, id)
		}
	}
	out.late = len(late)
	if len(late) > 0 {
		t.Errorf("%d orders became final more than 30 s after the trouble ended: %v", len(late), first(late, 10))
	}

	// Nothing duplicated: each client's list holds exactly its orders.
	for c := range ld.clients {
		listed := st.list(t, fmt.Sprintf("client-%d", c))
		want := l.of(c)
		if len(listed) != len(want) {
			out.duplicated += max(0, len(listed)-len(want))
			t.Errorf("client-%d: want its %d orders listed, have %d (a retry made a second order?)", c, len(want), len(listed))
		}
	}

	// The provider was asked again only after a crash: every attempt but
	// the last of an order's work was made by a process that died, or held
	// its lease while the store did.
	twice := st.chargedTwiceWithNoneDead(t, ctx)
	out.twice = len(twice)
	for _, w := range twice {
		t.Errorf("%s: asked of the provider again with no replica dead", w)
	}
	// An answered order's batch goes when a sweep finds it due: at most the
	// backoff's cap (10 s) after it was last announced.
	testenv.Eventually(t, 15*time.Second, "every order is answered, and the outbox never emptied", func() bool {
		return st.outboxEntries(t, ctx) == 0
	})
	return out
}

type chaosConfig struct {
	clients, baseline, orders int
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q is not a positive number", name, v)
	}
	return n
}

func rate(n int64, d time.Duration) float64 { return float64(n) / d.Seconds() }

func first(s []string, n int) []string { return s[:min(n, len(s))] }

// percentile returns the p-th of ds, rounded for a report.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))].Round(10 * time.Millisecond)
}

// ledger is what the clients were told: the orders created, and the
// status changes acknowledged or only attempted.
type ledger struct {
	mu        sync.Mutex
	orders    []string
	by        []int                // the client of each order
	created   map[string]time.Time // when its client was told
	declined  map[string]bool      // of the product the demo rule declines
	acked     map[string]string    // order id -> status a PUT was answered 200 for
	attempted map[string]bool      // a PUT was sent without an answer: it may have happened
}

func (l *ledger) add(id string, client int, declined bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.orders, l.by = append(l.orders, id), append(l.by, client)
	l.created[id], l.declined[id] = time.Now(), declined
}

// of returns the orders of client.
func (l *ledger) of(client int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ids []string
	for i, id := range l.orders {
		if l.by[i] == client {
			ids = append(ids, id)
		}
	}
	return ids
}

// final reports whether o/p is a final state of order id as its client
// was told.
func (l *ledger) final(id, o, p string) bool {
	l.mu.Lock()
	want, acked := l.acked[id]
	attempted, declined := l.attempted[id], l.declined[id]
	l.mu.Unlock()
	state := o + "/" + p
	switch {
	case declined && (acked || attempted):
		return state == "Failed/Declined" || state == "Cancelled/Declined"
	case declined:
		return state == "Failed/Declined"
	case acked && want == "Cancelled": // paid after all, then refunded
		return state == "Cancelled/Refunded"
	case acked && want == "Confirmed":
		return state == "Confirmed/Paid"
	case attempted: // a PUT without an answer may or may not have happened
		return state == "Success/Paid" || state == "Cancelled/Refunded" || state == "Confirmed/Paid"
	}
	return state == "Success/Paid"
}

// chaosStack is the system as processes of their own.
type chaosStack struct {
	bases    []string // the gateways
	mongoURI string
	procs    []*binary // everything that is killed, Redis aside
	logs     *testenv.Log
}

// startChaosStack starts the store and two replicas of each service, on the
// Redis of redisURL (any shape) and redisPassword; paymentsvcEnv is more
// of paymentsvc's settings.
func startChaosStack(t *testing.T, redisURL, redisPassword string, paymentsvcEnv ...string) *chaosStack {
	t.Helper()
	bin := buildServices(t, "github.com/orderflow/orderflow/devstack/cmd/devstack")
	st := &chaosStack{logs: &testenv.Log{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", st.logs)
		}
	})
	// The store and six services: seven addresses, all different.
	addrs := testenv.FreeAddrs(t, 7)
	storeAddr, addrs := addrs[0], addrs[1:]
	st.mongoURI = "mongodb://" + storeAddr
	store := &binary{t: t, name: "store", path: filepath.Join(bin, "devstack"), logs: st.logs,
		args: []string{"-stores.only", "-redis.url", redisURL, "-mongo.addr", storeAddr, "-data.dir", t.TempDir()},
		ready: func() bool {
			c, err := net.DialTimeout("tcp", storeAddr, 100*time.Millisecond)
			if err != nil {
				return false
			}
			c.Close()
			return true
		}}
	newBinary := func(name string, env func(addr string) []string) *binary {
		b := &binary{t: t, name: name, path: filepath.Join(bin, strings.TrimRight(name, "12")), addr: addrs[0], logs: st.logs}
		addrs = addrs[1:]
		b.env = env(b.addr)
		return b
	}
	st.procs = append(st.procs, store)
	var services []*binary
	for i := range 2 {
		o := newBinary(fmt.Sprintf("ordersvc%d", i+1), func(addr string) []string {
			return []string{
				"ORDERSVC_HTTP_ADDR=" + addr, "ORDERSVC_MONGO_URI=" + st.mongoURI,
				"ORDERSVC_REDIS_URL=" + redisURL, "ORDERSVC_REDIS_PASSWORD=" + redisPassword,
				"ORDERSVC_REDELIVER_BACKOFF_MIN=1s", "ORDERSVC_REDELIVER_BACKOFF_MAX=10s",
			}
		})
		p := newBinary(fmt.Sprintf("paymentsvc%d", i+1), func(addr string) []string {
			return append([]string{
				"PAYMENTSVC_HTTP_ADDR=" + addr, "PAYMENTSVC_MONGO_URI=" + st.mongoURI,
				"PAYMENTSVC_REDIS_URL=" + redisURL, "PAYMENTSVC_REDIS_PASSWORD=" + redisPassword,
				"PAYMENTSVC_CHARGE_LEASE=3s",
			}, paymentsvcEnv...)
		})
		g := newBinary(fmt.Sprintf("gateway%d", i+1), func(addr string) []string {
			// Many clients share one address here: no limit.
			return []string{"GATEWAY_HTTP_ADDR=" + addr, "GATEWAY_ORDERSVC_URL=http://" + o.addr, "GATEWAY_RATELIMIT_RATE=0"}
		})
		services = append(services, o, p, g)
		st.bases = append(st.bases, "http://"+g.addr)
	}
	st.procs = append(st.procs, services...)
	for _, b := range st.procs {
		b.start()
		t.Cleanup(b.kill)
	}
	return st
}

// killer is what the chaos kills: a process, or Redis.
type killer interface {
	label() string
	kill()
	start()
}

type redisProc struct {
	s interface {
		Kill()
		Restart() error
	}
}

func (r *redisProc) label() string { return "redis" }
func (r *redisProc) kill()         { r.s.Kill() }
func (r *redisProc) start()        { _ = r.s.Restart() }

func (b *binary) label() string { return strings.TrimRight(b.name, "12") }

// killUntil kills one process after another, ~2 s apart, each started
// again 0.3 to 2 s after its kill, until done holds and every kind was
// killed once; it returns the kills by kind.
func (st *chaosStack) killUntil(t *testing.T, redis killer, done func() bool) string {
	var victims []killer
	for _, b := range st.procs {
		victims = append(victims, b)
	}
	victims = append(victims, redis)
	order := rand.Perm(len(victims)) // each once first, then at random
	counts := map[string]int{}
	for i := 0; i == 0 || i < len(order) || !done(); i++ {
		if t.Failed() {
			break
		}
		next := time.Now().Add(2*time.Second + time.Duration(rand.IntN(1000)-500)*time.Millisecond)
		v := victims[rand.IntN(len(victims))]
		if i < len(order) {
			v = victims[order[i]]
		}
		v.kill()
		counts[v.label()]++
		time.Sleep(300*time.Millisecond + time.Duration(rand.IntN(1700))*time.Millisecond)
		v.start()
		time.Sleep(time.Until(next))
	}
	var kinds []string
	n := 0
	for _, k := range []string{"gateway", "ordersvc", "paymentsvc", "redis", "store"} {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, counts[k]))
		n += counts[k]
	}
	return fmt.Sprintf("%s (%d in all)", strings.Join(kinds, ", "), n)
}

// settled is when an order was last changed, as its store says.
type settled struct{ at time.Time }

// settle polls every order through the gateways until all are final as
// their clients were told, or deadline passes, and returns when each was
// last changed.
func (st *chaosStack) settle(t *testing.T, l *ledger, deadline time.Time) map[string]settled {
	final := map[string]settled{}
	var mu sync.Mutex
	pending := slices.Clone(l.orders)
	for len(pending) > 0 {
		var left []string
		jobs := make(chan string)
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Go(func() {
				for id := range jobs {
					r := doHTTP(t, st.bases[w%2], "GET", "/orders/one/"+id, "")
					if r.status == http.StatusOK {
						o := r.body["order"].(map[string]any)
						if l.final(id, o["orderStatus"].(string), o["paymentStatus"].(string)) {
							at, _ := time.Parse(time.RFC3339Nano, o["updatedAt"].(string))
							mu.Lock()
							final[id] = settled{at: at}
							mu.Unlock()
							continue
						}
					} else if r.status < 500 {
						t.Errorf("GET /orders/one/%s: %d %s", id, r.status, r.raw)
					}
					mu.Lock()
					left = append(left, id)
					mu.Unlock()
				}
			})
		}
		for _, id := range pending {
			jobs <- id
		}
		close(jobs)
		wg.Wait()
		pending = left
		if len(pending) > 0 && time.Now().After(deadline.Add(5*time.Second)) {
			sort.Strings(pending)
			t.Errorf("%d orders not final as their clients were told 30 s after the last kill: %v", len(pending), first(pending, 10))
			break
		}
		if len(pending) > 0 {
			time.Sleep(200 * time.Millisecond)
		}
	}
	return final
}

// list returns the ids of every order of user, page by page.
func (st *chaosStack) list(t *testing.T, user string) []string {
	var ids []string
	cursor := ""
	for page := 0; page < 1000; page++ {
		path := "/orders/" + user + "?limit=200"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := doHTTP(t, st.bases[0], "GET", path, "")
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.status, r.raw)
		}
		for _, o := range r.body["orders"].([]any) {
			ids = append(ids, o.(map[string]any)["id"].(string))
		}
		next, _ := r.body["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	return ids
}

// attempts counts the attempts paymentsvc claimed to ask the provider.
func (st *chaosStack) attempts(t *testing.T, ctx context.Context) int64 {
	n, err := stored(t, st.mongoURI, "payments", "payment_attempts").CountDocuments(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// chargedTwiceWithNoneDead returns the charges and refunds attempted again
// with nothing dead to admit it: the replica of the attempt before was never
// killed, nor was the store while that attempt held its lease (a claim whose
// answer died with the store, or an answer the store could not take in
// time, leaves the attempt to the next replica).
func (st *chaosStack) chargedTwiceWithNoneDead(t *testing.T, ctx context.Context) []string {
	killed := map[string]bool{}
	var storeKills []time.Time
	for _, b := range st.procs {
		switch b.label() {
		case "paymentsvc":
			for _, pid := range b.killedPIDs() {
				killed[fmt.Sprintf("/%d", pid)] = true
			}
		case "store":
			storeKills = b.killedAt()
		}
	}
	cur, err := stored(t, st.mongoURI, "payments", "payment_attempts").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	type attempt struct {
		ID         string    `bson:"_id"`
		Replica    string    `bson:"replica"`
		At         time.Time `bson:"at"`
		LeaseUntil time.Time `bson:"leaseUntil"`
	}
	var attempts []attempt
	if err := cur.All(ctx, &attempts); err != nil {
		t.Fatal(err)
	}
	last := map[string]int{} // "<order>/<work>" -> highest attempt
	byID := map[string]attempt{}
	for _, a := range attempts {
		work, n := a.ID[:strings.LastIndex(a.ID, "/")], 0
		fmt.Sscanf(a.ID[len(work)+1:], "%d", &n)
		last[work], byID[a.ID] = max(last[work], n), a
	}
	storeDied := func(a attempt) bool {
		for _, k := range storeKills {
			if !k.Before(a.At.Add(-time.Second)) && !k.After(a.LeaseUntil) {
				return true
			}
		}
		return false
	}
	var twice []string
	for work, n := range last {
		for i := 1; i < n; i++ {
			a := byID[fmt.Sprintf("%s/%d", work, i)]
			if !killed[a.Replica[strings.LastIndex(a.Replica, "/"):]] && !storeDied(a) {
				twice = append(twice, fmt.Sprintf("%s attempt %d of %d, by %s", work, i, n, a.Replica))
			}
		}
	}
	return twice
}

// outboxEntries counts the entries left in the outbox.
func (st *chaosStack) outboxEntries(t *testing.T, ctx context.Context) int {
	cur, err := stored(t, st.mongoURI, "orders", "outbox").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var batches []struct {
		Entries []bson.M `bson:"entries"`
	}
	if err := cur.All(ctx, &batches); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, b := range batches {
		n += len(b.Entries)
	}
	return n
}

// binary is a process of the system, configured through its environment
// variables (services) or flags (the store), as in docker compose and
// Kubernetes.
type binary struct {
	t     *testing.T
	name  string
	path  string
	addr  string
	env   []string
	args  []string
	ready func() bool // nil: the binary's own probe of /readyz
	logs  *testenv.Log

	mu     sync.Mutex
	cmd    *exec.Cmd
	killed []int       // pids of the processes killed
	at     []time.Time // when
}

func (b *binary) start() {
	b.t.Helper()
	cmd := exec.Command(b.path, b.args...)
	cmd.Env = append(os.Environ(), b.env...)
	cmd.Stderr = b.logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	b.mu.Lock()
	b.cmd = cmd
	b.mu.Unlock()
	ready := b.ready
	if ready == nil {
		// Readiness is asked as the compose health check asks it: by the
		// binary itself, configured by the same environment.
		ready = func() bool {
			probe := exec.Command(b.path, "probe", "/readyz")
			probe.Env = cmd.Env
			return probe.Run() == nil
		}
	}
	testenv.Eventually(b.t, 30*time.Second, b.name+" never became ready", ready)
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
	b.killed, b.at = append(b.killed, b.cmd.Process.Pid), append(b.at, time.Now())
	b.cmd = nil
}

func (b *binary) killedPIDs() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.killed)
}

func (b *binary) killedAt() []time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.at)
}

// buildServices builds the three service binaries, and the others named,
// into a temporary folder.
func buildServices(t *testing.T, more ...string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", append([]string{"build", "-o", dir + string(filepath.Separator),
		"github.com/orderflow/orderflow/gateway/cmd/gateway",
		"github.com/orderflow/orderflow/ordersvc/cmd/ordersvc",
		"github.com/orderflow/orderflow/paymentsvc/cmd/paymentsvc"}, more...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// createOnAny posts an order until a gateway answers 201, as a careful
// client does: on a failure it tries the other gateway, and the
// Idempotency-Key makes every retry safe.
func createOnAny(ctx context.Context, t *testing.T, bases []string, body, key string) string {
	for try := 0; ctx.Err() == nil; try++ {
		req, _ := http.NewRequestWithContext(ctx, "POST", bases[try%len(bases)]+"/orders", stringsReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := chaosClient.Do(req)
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
		resp, err := chaosClient.Do(req)
		if err == nil {
			r := readResponse(resp)
			if r.body != nil {
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

// waitPaid polls the order on any gateway until it is final, and reports
// whether it was paid.
func waitPaid(ctx context.Context, t *testing.T, bases []string, id string) bool {
	for try := 0; ctx.Err() == nil; try++ {
		req, _ := http.NewRequestWithContext(ctx, "GET", bases[try%len(bases)]+"/orders/status/"+id, nil)
		resp, err := chaosClient.Do(req)
		if err == nil {
			r := readResponse(resp)
			if r.body != nil {
				checkContract(t, req, nil, resp, []byte(r.raw))
			}
			if r.status == http.StatusOK && r.body["paymentStatus"] != "Pending" {
				return r.body["orderStatus"] == "Success" && r.body["paymentStatus"] == "Paid"
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// chaosClient gives up on a gateway that does not answer, as a client
// would, and tries the other.
var chaosClient = &http.Client{Timeout: 10 * time.Second}
