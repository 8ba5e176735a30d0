package platform

import (
	"context"
	"testing"

	"github.com/alicebob/miniredis/v2"
)

func TestMongoCredentialsApartFromTheURI(t *testing.T) {
	for _, tc := range []struct {
		name             string
		cfg              MongoConfig
		user, authSource string
	}{
		{"none", MongoConfig{URI: "mongodb://mongo:27017", Database: "orders"}, "", ""},
		{"against the service's database", MongoConfig{URI: "mongodb://mongo:27017", Database: "orders", Username: "ordersvc", Password: "p@ss:/"}, "ordersvc", "orders"},
		{"the URI's authSource wins", MongoConfig{URI: "mongodb://mongo:27017/?authSource=admin", Database: "orders", Username: "ordersvc", Password: "x"}, "ordersvc", "admin"},
		{"the URI's own credentials", MongoConfig{URI: "mongodb://app:pw@mongo:27017/?authSource=admin", Database: "orders"}, "app", "admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			auth := tc.cfg.clientOptions().Auth
			if tc.user == "" {
				if auth != nil {
					t.Errorf("want no credentials, have %+v", auth)
				}
				return
			}
			if auth == nil || auth.Username != tc.user || auth.AuthSource != tc.authSource {
				t.Fatalf("want %s against %s, have %+v", tc.user, tc.authSource, auth)
			}
			if tc.cfg.Password != "" && auth.Password != tc.cfg.Password {
				t.Errorf("the password was changed: %q", auth.Password)
			}
		})
	}
}

func TestRedisPasswordApartFromTheURL(t *testing.T) {
	m := miniredis.RunT(t)
	m.RequireAuth("s3cret/with:symbols")
	ctx := context.Background()
	if c, err := ConnectRedis(ctx, RedisConfig{URL: "redis://" + m.Addr()}); err == nil {
		c.Close()
		t.Fatal("connected without the password")
	}
	c, err := ConnectRedis(ctx, RedisConfig{URL: "redis://" + m.Addr(), Password: "s3cret/with:symbols"})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
