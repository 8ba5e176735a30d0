// Package devstack runs the whole order system in one process for local
// use: MongoDB (embedded FerretDB on SQLite files, or the server at
// MONGO_URI), Redis (a redis-server child process, else an in-process
// Redis-compatible server, or the server at REDIS_URL), the three
// services, which talk over real sockets exactly as they do in production,
// and flowsvc, whose page shows the orders moving through them.
package devstack

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"path/filepath"

	"github.com/oklog/run"

	"github.com/orderflow/orderflow/flowsvc"
	"github.com/orderflow/orderflow/gateway"
	"github.com/orderflow/orderflow/internal/httpserver"
	"github.com/orderflow/orderflow/internal/process"
	"github.com/orderflow/orderflow/internal/redisserver"
	"github.com/orderflow/orderflow/internal/startup"
	"github.com/orderflow/orderflow/internal/telemetry"

	"github.com/orderflow/orderflow/ordersvc"
	"github.com/orderflow/orderflow/paymentsvc"
)

// Config is the local stack's configuration. Its variables have no prefix:
// MONGO_URI, REDIS_URL, GATEWAY_ADDR...
type Config struct {
	MongoURI       string
	RedisURL       string
	DataDir        string
	MongoAddr      string
	RedisAddr      string
	GatewayAddr    string
	OrdersvcAddr   string
	PaymentsvcAddr string
	FlowsvcAddr    string
	// StoresOnly runs MongoDB and Redis without the services, for services
	// run as processes of their own.
	StoresOnly bool
	// AuthSecret, when set, turns sign-in on: the gateway's HS256 secret.
	AuthSecret string
	// RateLimit is the gateway's per-client rate (0: no limit).
	RateLimit float64
	DebugAddr string
}

// RegisterFlags defines the flags of c on fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.MongoURI, "mongo.uri", "", "MongoDB to use instead of the embedded FerretDB")
	fs.StringVar(&c.RedisURL, "redis.url", "", "Redis to use instead of starting one")
	fs.StringVar(&c.DataDir, "data.dir", ".data", "folder of the embedded FerretDB's files")
	fs.StringVar(&c.MongoAddr, "mongo.addr", "127.0.0.1:27017", "address of the embedded FerretDB")
	fs.StringVar(&c.RedisAddr, "redis.addr", "127.0.0.1:6379", "address of the Redis started here")
	fs.StringVar(&c.GatewayAddr, "gateway.addr", ":7000", "address of the public API")
	fs.StringVar(&c.OrdersvcAddr, "ordersvc.addr", "127.0.0.1:7001", "address of ordersvc's internal API")
	fs.StringVar(&c.PaymentsvcAddr, "paymentsvc.addr", "127.0.0.1:7002", "address of paymentsvc's health endpoints")
	fs.StringVar(&c.FlowsvcAddr, "flowsvc.addr", "127.0.0.1:7003", "address of flowsvc: the flow page, a live view of the orders")
	fs.BoolVar(&c.StoresOnly, "stores.only", false, "run MongoDB and Redis only, for services run as processes of their own")
	fs.StringVar(&c.AuthSecret, "auth.hs256.secret", "", "turns sign-in on: the secret of the HS256 tokens callers send (at least 32 bytes; make token prints one)")
	fs.Float64Var(&c.RateLimit, "ratelimit.rate", 20, "requests a second each client may make to /orders (0: no limit, as make load needs)")
	httpserver.RegisterDebugFlag(fs, &c.DebugAddr)
}

// Run starts the stack and runs it until ctx is cancelled or a part fails.
// Everything it started is stopped before it returns.
func Run(ctx context.Context, cfg Config, stderr io.Writer, tracing *telemetry.Tracing) error {
	logger := process.NewLogger(stderr, "devstack")
	if err := checkPorts(cfg); err != nil {
		return err
	}
	_, _, gw := Defaults()
	gw.Auth.HS256Secret, gw.RateLimit.Rate = cfg.AuthSecret, cfg.RateLimit
	if err := gw.Validate(); err != nil { // before anything starts
		return err
	}

	mongoURI := cfg.MongoURI
	if mongoURI == "" {
		dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "ferretdb"))
		if err != nil {
			return err
		}
		f, err := StartFerretDB(cfg.MongoAddr, dir, slog.LevelError)
		if err != nil {
			return err
		}
		defer f.Stop()
		mongoURI = f.URI
		logger.Log("msg", "embedded FerretDB (MongoDB wire protocol, SQLite files) serving", "uri", mongoURI, "data", dir)
	} else {
		logger.Log("msg", "using MongoDB from MONGO_URI", "uri", startup.Redact(mongoURI))
	}

	redisURL := cfg.RedisURL
	if redisURL == "" {
		r, err := redisserver.Start(cfg.RedisAddr, "", stderr)
		switch {
		case err == nil:
			defer r.Stop()
			logger.Log("msg", "redis-server child process serving; watch events with: redis-cli -p "+port(r.Addr)+" monitor", "addr", r.Addr)
			redisURL = "redis://" + r.Addr + "/0"
		case err == redisserver.ErrNotInstalled:
			m, err := StartMiniredis(cfg.RedisAddr)
			if err != nil {
				return err
			}
			defer m.Close()
			logger.Log("msg", "redis-server is not installed: using an in-process Redis-compatible server (install redis-server to watch events with redis-cli monitor)", "addr", m.Addr())
			redisURL = "redis://" + m.Addr() + "/0"
		default:
			return err
		}
	} else {
		logger.Log("msg", "using Redis from REDIS_URL", "url", startup.Redact(redisURL))
	}

	var g run.Group
	ctx = process.AddContext(ctx, &g)
	if err := httpserver.AddDebugServer(&g, cfg.DebugAddr, process.EnvName("", "debug.addr"), logger); err != nil {
		return err
	}
	if cfg.StoresOnly {
		logger.Log("msg", "serving MongoDB and Redis only; Ctrl-C stops them", "mongo_uri", startup.Redact(mongoURI), "redis_url", startup.Redact(redisURL))
		return g.Run()
	}

	orders, payments, _ := Defaults()
	orders.HTTPAddr, orders.Mongo.URI, orders.Redis.URL = cfg.OrdersvcAddr, mongoURI, redisURL
	payments.HTTPAddr, payments.Mongo.URI, payments.Redis.URL = cfg.PaymentsvcAddr, mongoURI, redisURL
	gw.HTTPAddr, gw.OrdersURL = cfg.GatewayAddr, "http://"+dialAddr(cfg.OrdersvcAddr)
	var flows flowsvc.Config
	flows.RegisterFlags(flag.NewFlagSet("flowsvc", flag.ContinueOnError))
	flows.HTTPAddr, flows.Redis.URL, flows.GatewayURL = cfg.FlowsvcAddr, redisURL, "http://"+dialAddr(cfg.GatewayAddr)

	g.Add(func() error { return ordersvc.Run(ctx, orders, process.NewLogger(stderr, "ordersvc"), tracing) }, func(error) {})
	g.Add(func() error { return paymentsvc.Run(ctx, payments, process.NewLogger(stderr, "paymentsvc"), tracing) }, func(error) {})
	g.Add(func() error { return gateway.Run(ctx, gw, process.NewLogger(stderr, "gateway"), tracing) }, func(error) {})
	g.Add(func() error { return flowsvc.Run(ctx, flows, process.NewLogger(stderr, "flowsvc"), tracing) }, func(error) {})
	base := "http://localhost:" + port(cfg.GatewayAddr)
	logger.Log("msg", "order system starting; Ctrl-C stops it", "api", base+"/orders", "swagger_ui", base+"/api",
		"flow_page", "http://localhost:"+port(cfg.FlowsvcAddr)+"/")
	if cfg.AuthSecret != "" {
		logger.Log("msg", "sign-in is on: get a token for a user with the same AUTH_HS256_SECRET, then send it as Authorization: Bearer <token>",
			"token", "AUTH_HS256_SECRET=... make token SUB=u1")
	}
	return g.Run()
}

// Defaults returns the services' configurations with every flag at its
// default, as a service started without flags or variables has them.
func Defaults() (ordersvc.Config, paymentsvc.Config, gateway.Config) {
	var (
		o ordersvc.Config
		p paymentsvc.Config
		g gateway.Config
	)
	o.RegisterFlags(flag.NewFlagSet("ordersvc", flag.ContinueOnError))
	p.RegisterFlags(flag.NewFlagSet("paymentsvc", flag.ContinueOnError))
	g.RegisterFlags(flag.NewFlagSet("gateway", flag.ContinueOnError))
	return o, p, g
}

// checkPorts fails before anything starts when a port the stack needs is
// taken, naming the flag and variable that move it.
func checkPorts(cfg Config) error {
	var addrs []struct{ addr, flag string }
	if !cfg.StoresOnly {
		addrs = append(addrs, []struct{ addr, flag string }{
			{cfg.GatewayAddr, "gateway.addr"},
			{cfg.OrdersvcAddr, "ordersvc.addr"},
			{cfg.PaymentsvcAddr, "paymentsvc.addr"},
			{cfg.FlowsvcAddr, "flowsvc.addr"},
		}...)
	}
	if cfg.MongoURI == "" {
		addrs = append(addrs, struct{ addr, flag string }{cfg.MongoAddr, "mongo.addr"})
	}
	if cfg.RedisURL == "" {
		addrs = append(addrs, struct{ addr, flag string }{cfg.RedisAddr, "redis.addr"})
	}
	for _, a := range addrs {
		ln, err := httpserver.Listen(a.addr, a.flag, process.EnvName("", a.flag))
		if err != nil {
			return err
		}
		ln.Close()
	}
	return nil
}

func port(addr string) string {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return p
}

// dialAddr turns a listen address such as ":7001" into one to dial.
func dialAddr(addr string) string {
	host, p, err := net.SplitHostPort(addr)
	if err != nil || host == "" || host == "0.0.0.0" || host == "::" {
		return "127.0.0.1:" + p
	}
	return addr
}
