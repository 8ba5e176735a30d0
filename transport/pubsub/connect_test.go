package pubsub

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/go-kit/log"
)

func TestRedisPasswordApartFromTheURL(t *testing.T) {
	m := miniredis.RunT(t)
	m.RequireAuth("s3cret/with:symbols")
	ctx := context.Background()
	if c, err := Connect(ctx, Config{URL: "redis://" + m.Addr()}); err == nil {
		c.Close()
		t.Fatal("connected without the password")
	}
	c, err := Connect(ctx, Config{URL: "redis://" + m.Addr(), Password: "s3cret/with:symbols"})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestGoRedisTroubleIsLoggedOnceAWhile(t *testing.T) {
	var lines []string
	l := &redisLogger{logger: log.LoggerFunc(func(kv ...any) error {
		lines = append(lines, fmt.Sprint(kv...))
		return nil
	}), every: time.Hour}
	for range 20 {
		l.Printf(context.Background(), "redis: connection refused")
	}
	if len(lines) != 1 {
		t.Fatalf("want one line of twenty in a period, have %d", len(lines))
	}
	l.last = time.Now().Add(-2 * time.Hour) // the period is over
	l.Printf(context.Background(), "redis: connection refused")
	if len(lines) != 2 || !strings.Contains(lines[1], "left_out19") {
		t.Errorf("the next line says how many were left out: %q", lines)
	}
}

func TestAURLNamesOneOfThreeShapes(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want Target
	}{
		{"redis://:pw@redis:6380/2", Target{Shape: Standalone, Addrs: []string{"redis:6380"}, DB: 2, Password: "pw"}},
		{"redis://redis:6379/0?pool_size=20&client_name=orders", Target{Shape: Standalone, Addrs: []string{"redis:6379"}}},
		{"rediss://app:pw@cache.example.com:6379", Target{Shape: Standalone, Addrs: []string{"cache.example.com:6379"}, TLS: true, Username: "app", Password: "pw"}},
		{"redis+sentinel://s1,s2:26380,10.0.0.3:26379/main", Target{Shape: Sentinel, Addrs: []string{"s1:26379", "s2:26380", "10.0.0.3:26379"}, Master: "main"}},
		{"rediss+sentinel://:p%40ss@s1:26379/main/3", Target{Shape: Sentinel, Addrs: []string{"s1:26379"}, Master: "main", DB: 3, TLS: true, Password: "p@ss"}},
		{"redis+cluster://n1,n2:7001", Target{Shape: Cluster, Addrs: []string{"n1:6379", "n2:7001"}}},
		{"rediss+cluster://:token@clustercfg.orders.abc123.use1.cache.amazonaws.com:6379/0", Target{Shape: Cluster, Addrs: []string{"clustercfg.orders.abc123.use1.cache.amazonaws.com:6379"}, TLS: true, Password: "token"}},
		{"redis+cluster://[::1]:7000", Target{Shape: Cluster, Addrs: []string{"[::1]:7000"}}},
	} {
		have, err := Config{URL: tc.url}.Target()
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if fmt.Sprint(have) != fmt.Sprint(tc.want) {
			t.Errorf("%s:\nwant %+v\nhave %+v", tc.url, tc.want, have)
		}
	}
}

func TestAPasswordGivenApartReplacesTheURLs(t *testing.T) {
	have, err := Config{URL: "redis+sentinel://:old@s1/main", Password: "new/with:symbols@"}.Target()
	if err != nil || have.Password != "new/with:symbols@" {
		t.Errorf("want the password given apart, have %q (%v)", have.Password, err)
	}
}

func TestAMalformedURLIsNamedWithoutItsPassword(t *testing.T) {
	for _, tc := range []struct{ url, says string }{
		{"redis:6379", "no scheme"},
		{"http://:hunter2@redis:6379", `scheme "http"`},
		{"redis+sentinel://:hunter2@s1:26379", "no master name"},
		{"redis+sentinel://:hunter2@s1:26379/main/x", `database "x"`},
		{"redis+sentinel://:hunter2@s1:26379/main/1/2", "more than a database"},
		{"redis+cluster://:hunter2@n1:7000/3", "database 0 only"},
		{"redis+cluster://:hunter2@n1:7000,,n2", "empty host"},
		{"redis+cluster://:hunter2@n1:port", `"n1:port" is not host:port`},
		{"redis+cluster://:hunter2@n1:99999", "not host:port"},
		{"redis+cluster://:hunter2@n1?read_timeout=1s", "no query"},
		{"redis+sentinel://:hunter2%zz@s1/main", "not URL-escaped"},
		{"redis://:hunter2@redis:6379/x", "redis URL"},
		{"redis://:hunter2@redis:6379/0?protocol=3", "option protocol is the services' own (they speak RESP2)"},
		{"redis://:hunter2@redis:6379/0?pool_size=20&dial_timeout=10s", "option dial_timeout"},
		{"rediss://:hunter2@redis:6379/0?max_retries=5", "option max_retries"},
		{"rediss://:hunter2@redis:6379/0?skip_verify=true", "option skip_verify"},
	} {
		_, err := Config{URL: tc.url}.Target()
		switch {
		case err == nil:
			t.Errorf("%s: want an error, have none", tc.url)
		case !strings.Contains(err.Error(), tc.says):
			t.Errorf("%s: want an error saying %q, have %q", tc.url, tc.says, err)
		case strings.Contains(err.Error(), "hunter2"):
			t.Errorf("%s: the error shows the password: %q", tc.url, err)
		}
	}
}

func TestTheCAFileMustHoldACertificate(t *testing.T) {
	dir := t.TempDir()
	bad := dir + "/ca.pem"
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Connect(context.Background(), Config{URL: "rediss://127.0.0.1:1", TLSCAFile: bad})
	if err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("want the CA file refused, have %v", err)
	}
	_, err = Connect(context.Background(), Config{URL: "rediss://127.0.0.1:1", TLSCAFile: dir + "/missing.pem"})
	if err == nil || !strings.Contains(err.Error(), "-redis.tls.ca") {
		t.Errorf("want the missing CA file named, have %v", err)
	}
}
