// Package testenv starts the real servers integration tests run against: a
// private redis-server on a free port and an embedded FerretDB in a
// temporary folder. Where redis-server is missing, tests skip with a message
// that says how to install it, except under CI, where they fail.
package testenv

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/orderflow/orderflow/devstack"
)

// Redis starts a private redis-server for the test and returns it; the test
// may Kill and Start it again.
func Redis(t testing.TB) *devstack.RedisServer {
	t.Helper()
	return RedisWithPassword(t, "")
}

// RedisWithPassword is Redis requiring password of its clients.
func RedisWithPassword(t testing.TB, password string) *devstack.RedisServer {
	t.Helper()
	skipShort(t)
	s, err := devstack.StartRedisServer("127.0.0.1:0", password)
	if err == devstack.ErrNoRedisServer {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v: CI must provide it", err)
		}
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// RedisClient returns a client of s, closed when the test ends.
func RedisClient(t testing.TB, s *devstack.RedisServer) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Password: s.Password})
	t.Cleanup(func() { c.Close() })
	return c
}

// FerretDB starts an embedded FerretDB with its files in a temporary folder
// and returns its MongoDB URI.
func FerretDB(t testing.TB) string { return FerretDBServer(t).URI }

// FerretDBServer starts an embedded FerretDB with its files in a temporary
// folder; the test may stop it.
func FerretDBServer(t testing.TB) *devstack.FerretDB {
	t.Helper()
	skipShort(t)
	f, err := devstack.StartFerretDB("127.0.0.1:0", t.TempDir(), slog.LevelError+4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	return f
}

// Mongo returns a client of the MongoDB at uri, disconnected when the test ends.
func Mongo(t testing.TB, uri string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
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
