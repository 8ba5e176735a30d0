// Package testenv is what tests share: a private redis-server on a free
// port, which a test may kill and start again, polling with a deadline, a
// clock tests move on, and a log to show when a test fails. Where
// redis-server is missing, tests skip with a message that says how to
// install it, except under CI, where they fail.
//
// It links no MongoDB-protocol server: the tests that need the embedded
// FerretDB live in package devstack, which starts it.
package testenv

import (
	"bytes"
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/orderflow/orderflow/internal/freeport"
	"github.com/orderflow/orderflow/internal/redisserver"
)

// Redis starts a private redis-server for the test and returns it; the test
// may Kill and Restart it.
func Redis(t testing.TB) *redisserver.Server {
	t.Helper()
	return RedisWithPassword(t, "")
}

// RedisWithPassword is Redis requiring password of its clients.
func RedisWithPassword(t testing.TB, password string) *redisserver.Server {
	t.Helper()
	skipShort(t)
	logs := serverLog(t)
	s, err := redisserver.Start("127.0.0.1:0", password, logs)
	skipMissing(t, err)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// serverLog returns the log of the redis-servers of a test, shown when the
// test fails (after the servers stopped).
func serverLog(t testing.TB) *Log {
	logs := &Log{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("redis-server:\n%s", logs)
		}
	})
	return logs
}

// skipMissing skips the test when err says redis-server is missing, but
// under CI, where it fails.
func skipMissing(t testing.TB, err error) {
	t.Helper()
	if err == redisserver.ErrNotInstalled {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v: CI must provide it", err)
		}
		t.Skipf("skipping: %v", err)
	}
}

// Sentinel is a Redis master with one replica, watched by three Sentinels
// that promote the replica a second after the master stops answering.
type Sentinel struct {
	Master, Replica *redisserver.Server
	Sentinels       []*redisserver.Server
	// URL is the redis+sentinel:// URL of the master, named "main".
	URL string
}

// RedisSentinel starts a Sentinel set of redis-servers for the test.
func RedisSentinel(t testing.TB) *Sentinel {
	t.Helper()
	skipShort(t)
	logs := serverLog(t)
	var x Sentinel
	var err error
	dir := t.TempDir() // where the replica keeps what it syncs, and the Sentinels their files
	x.Master, err = redisserver.Start("127.0.0.1:0", "", logs, "--repl-diskless-sync-delay", "0", "--dir", dir)
	skipMissing(t, err)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.Master.Stop)
	host, port, _ := net.SplitHostPort(x.Master.Addr)
	if x.Replica, err = redisserver.Start("127.0.0.1:0", "", logs, "--replicaof", host, port, "--dir", dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.Replica.Stop)
	if err := redisserver.WaitSynced(x.Replica.Addr, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	addrs := make([]string, 3)
	for i := range addrs {
		s, err := redisserver.StartSentinel("127.0.0.1:0", redisserver.SentinelOptions{
			Master: "main", MasterAddr: x.Master.Addr, Quorum: 2,
			DownAfter: time.Second, FailoverTimeout: 5 * time.Second,
		}, dir, logs)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Stop)
		x.Sentinels, addrs[i] = append(x.Sentinels, s), s.Addr
	}
	x.URL = "redis+sentinel://" + strings.Join(addrs, ",") + "/main"
	return &x
}

// Cluster is a Redis Cluster of three masters, each with a replica.
type Cluster struct {
	Nodes []*redisserver.Server
	// URL is the redis+cluster:// URL of the cluster, naming its masters.
	URL string
}

// RedisCluster starts a Redis Cluster for the test.
func RedisCluster(t testing.TB) *Cluster {
	t.Helper()
	skipShort(t)
	logs := serverLog(t)
	nodes, err := redisserver.StartCluster("127.0.0.1", 3, 1, t.TempDir(), logs)
	skipMissing(t, err)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		t.Cleanup(n.Stop)
	}
	return &Cluster{Nodes: nodes, URL: "redis+cluster://" + nodes[0].Addr + "," + nodes[1].Addr + "," + nodes[2].Addr}
}

// MasterOf returns the node that masters the slot of key now.
func (c *Cluster) MasterOf(t testing.TB, key string) *redisserver.Server {
	t.Helper()
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{c.Nodes[0].Addr}})
	defer client.Close()
	master, err := client.MasterForKey(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range c.Nodes {
		if n.Addr == master.Options().Addr {
			return n
		}
	}
	t.Fatalf("no node of the cluster at %s", master.Options().Addr)
	return nil
}

// RedisClient returns a client of s, closed when the test ends.
func RedisClient(t testing.TB, s *redisserver.Server) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Password: s.Password})
	t.Cleanup(func() { c.Close() })
	return c
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return FreeAddrs(t, 1)[0]
}

// FreeAddrs returns n different loopback addresses with ports that were
// free a moment ago, out of the kernel's way (package freeport): two
// processes told the same address would race for it, the loser's clients
// reaching the winner.
func FreeAddrs(t testing.TB, n int) []string {
	t.Helper()
	ports, err := freeport.Pick("127.0.0.1", n)
	if err != nil {
		t.Fatal(err)
	}
	addrs := make([]string, n)
	for i, p := range ports {
		addrs[i] = "127.0.0.1:" + p
	}
	return addrs
}

// Eventually polls cond every 20ms until it holds or timeout passes, and
// fails the test with msg then.
func Eventually(t testing.TB, timeout time.Duration, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func skipShort(t testing.TB) {
	if testing.Short() {
		t.Skip("skipping in -short mode: needs a real server")
	}
}

// Clock is a time that a test sets and moves on, for the services' and
// stores' clock options; any goroutine may read it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Log collects what the services of a test write, from any goroutine, to
// show when the test fails.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *Log) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns all that was written.
func (b *Log) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
