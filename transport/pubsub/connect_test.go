package pubsub

import (
	"context"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/go-kit/log"
)

func TestRedisPasswordApartFromTheURL(t *testing.T) {
	m := miniredis.RunT(t)
	m.RequireAuth("s3cret/with:symbols")
	ctx := context.Background()
	if c, err := Connect(ctx, Config{URL: "redis://" + m.Addr()}, log.NewNopLogger()); err == nil {
		c.Close()
		t.Fatal("connected without the password")
	}
	c, err := Connect(ctx, Config{URL: "redis://" + m.Addr(), Password: "s3cret/with:symbols"}, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
