package devstack_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/devstack"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ordersvc"
	"github.com/orderflow/orderflow/paymentsvc"
)

func TestAServiceFailsFastWhenMongoDBIsUnreachable(t *testing.T) {
	t.Parallel()
	redis := testenv.Redis(t)
	dead := testenv.FreeAddr(t) // nothing listens there
	_, cfg, _ := devstack.Defaults()
	cfg.HTTPAddr, cfg.Mongo.URI, cfg.Redis.URL = testenv.FreeAddr(t), "mongodb://app:s3cret@"+dead, "redis://"+redis.Addr
	err := paymentsvc.Run(context.Background(), cfg, log.NewNopLogger())
	if err == nil || !strings.Contains(err.Error(), "mongodb unreachable at mongodb://app:xxxxx@"+dead) {
		t.Errorf("want an error naming the server without its password, have %v", err)
	}
}

func TestAServiceFailsFastWhenRedisIsUnreachable(t *testing.T) {
	t.Parallel()
	uri := testenv.FerretDB(t)
	dead := testenv.FreeAddr(t) // nothing listens there
	cfg, _, _ := devstack.Defaults()
	cfg.HTTPAddr, cfg.Mongo.URI, cfg.Redis.URL = testenv.FreeAddr(t), uri, "redis://"+dead+"/0"
	err := ordersvc.Run(context.Background(), cfg, log.NewNopLogger())
	if err == nil || !strings.Contains(err.Error(), "redis unreachable at redis://"+dead) {
		t.Errorf("want an error naming the server, have %v", err)
	}
}

func TestRunRefusesABusyPortBeforeStartingAnything(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := devstack.Config{
		DataDir: t.TempDir(), MongoAddr: testenv.FreeAddr(t), RedisAddr: testenv.FreeAddr(t),
		GatewayAddr: ln.Addr().String(), OrdersvcAddr: testenv.FreeAddr(t), PaymentsvcAddr: testenv.FreeAddr(t),
	}
	err = devstack.Run(context.Background(), cfg, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) || !strings.Contains(err.Error(), "GATEWAY_ADDR") {
		t.Errorf("want an error naming the port and GATEWAY_ADDR, have %v", err)
	}
}
