package pubsub

import (
	"context"
	"fmt"
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
