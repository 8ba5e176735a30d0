package devstack_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/testenv"
)

// The broker fails over under load: two replicas of each service on a
// Redis master that Sentinels watch, clients placing, cancelling and
// confirming orders; the master is killed, and the Sentinels promote its
// replica. Nothing a client was told is lost or duplicated, nothing is
// charged twice, every cancelled paid order is refunded, and orders settle
// again within 30 s of the kill.
func TestASentinelFailoverUnderLoadLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: builds and kills processes")
	}
	s := testenv.RedisSentinel(t)
	brokerFailover(t, s.URL, s.Master.Kill)
}

// The same on a Redis Cluster of three masters, each with a replica: events
// go by sharded pub/sub, and the master of the slot of orders.created (the
// channel every order starts on) is killed.
func TestAClusterFailoverUnderLoadLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: builds and kills processes")
	}
	cl := testenv.RedisCluster(t)
	brokerFailover(t, cl.URL, func() { cl.MasterOf(t, "orders.created").Kill() })
}

// brokerFailover runs the load on the stack on the Redis of redisURL, kills
// its master with killMaster once the pace is known, goes on until as many
// orders again were placed after the kill, and checks the outcome.
func brokerFailover(t *testing.T, redisURL string, killMaster func()) {
	const clients, before, after = 8, 150, 300
	st := startChaosStack(t, redisURL, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	ld := startLoad(ctx, t, st, clients)
	testenv.Eventually(t, 5*time.Minute, "the clients never placed the orders before the kill", func() bool { return ld.made.Load() >= before })
	placed := ld.made.Load()
	killMaster()
	killed := time.Now()
	testenv.Eventually(t, 5*time.Minute, "the clients never placed the orders after the kill", func() bool { return ld.made.Load()-placed >= after })
	ld.finish()
	if t.Failed() {
		return
	}
	out := st.verify(ctx, t, ld, killed)

	// How long the kill held orders up: from the kill to the first order
	// that became final of those placed after it.
	firstAfter := time.Duration(-1)
	for id, o := range out.final {
		if ld.l.created[id].After(killed) && (firstAfter < 0 || o.at.Sub(killed) < firstAfter) {
			firstAfter = o.at.Sub(killed)
		}
	}
	if firstAfter < 0 || firstAfter > 30*time.Second {
		t.Errorf("no order placed after the kill became final within 30 s of it (first: %v)", firstAfter)
	}
	t.Log("\n" + strings.Join([]string{
		"broker failover: two replicas each of the gateway, ordersvc and paymentsvc on " + redisURL[:strings.Index(redisURL, ":")] + "; SIGKILL of the master under load",
		fmt.Sprintf("orders: %d (%d before the kill) by %d clients; lost 0, duplicated %d",
			len(ld.l.orders), placed, clients, out.duplicated),
		fmt.Sprintf("first order placed after the kill final %s after it; every order final within %s of it (p99 %s)",
			firstAfter.Round(10*time.Millisecond), percentile(out.sinceTrouble, 1), percentile(out.sinceTrouble, 0.99)),
	}, "\n"))
}
