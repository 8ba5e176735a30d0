// Package ordersvc is the order service as a process: its configuration and
// the component graph Run builds from its packages. An order's path through
// them:
//
//	orderapi     POST /v1/orders (server.go) -> CreateOrder endpoint (endpoints.go)
//	order        Orders.CreateOrder (service.go): the lifecycle of order.go
//	orderstore   Store.Create (store.go), Outbox.Schedule (outbox.go)
//	orderevents  Publisher.OrderCreated (publisher.go) -> Redis orders.created
//	             ... paymentsvc answers on payments.processed ...
//	orderevents  MakeHandlers (subscriber.go) -> ApplyPayment endpoint (orderapi)
//	order        Orders.ApplyPayment -> orderstore Store.Change
//
// order.Redeliverer sweeps the outbox and publishes again what paymentsvc
// has not answered.
package ordersvc

import (
	"context"
	"errors"
	"flag"
	"net/http"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/oklog/run"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/orderflow/orderflow/internal/docstore/mongostore"
	"github.com/orderflow/orderflow/internal/httpserver"
	"github.com/orderflow/orderflow/internal/instrument"
	"github.com/orderflow/orderflow/internal/process"
	"github.com/orderflow/orderflow/internal/prommetrics"
	"github.com/orderflow/orderflow/internal/telemetry"
	"github.com/orderflow/orderflow/ordersvc/eventapi"
	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/ordersvc/orderapi"
	"github.com/orderflow/orderflow/ordersvc/orderevents"
	"github.com/orderflow/orderflow/ordersvc/orderstore"

	"github.com/orderflow/orderflow/transport/httperr"
	"github.com/orderflow/orderflow/transport/pubsub"
)

// EnvPrefix starts the name of every environment variable ordersvc reads.
const EnvPrefix = "ORDERSVC"

// Config is ordersvc's configuration; its flags are the whole of it.
type Config struct {
	HTTPAddr          string
	MaxInFlight       int
	MaxQueued         int
	InternalToken     string
	Mongo             mongostore.Config
	Redis             pubsub.Config
	RedeliverInterval time.Duration
	Backoff           orderstore.Backoff
	ClaimTTL          time.Duration
	DebugAddr         string
	ShutdownTimeout   time.Duration
}

// RegisterFlags defines the flags of c on fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.HTTPAddr, "http.addr", ":7001", "address of the internal HTTP API, /healthz, /readyz and /metrics")
	fs.IntVar(&c.MaxInFlight, "http.max-inflight", 16, "calls of the order API served at once")
	fs.IntVar(&c.MaxQueued, "http.max-queued", 1024, "calls of the order API that wait for their turn beyond -http.max-inflight; the others are answered 503 with Retry-After at once")
	fs.StringVar(&c.InternalToken, "internal.token", "", "token every call of the order API must present as Authorization: Bearer (empty: none needed; health and metrics never need it)")
	c.Mongo.RegisterFlags(fs, "orders")
	c.Redis.RegisterFlags(fs)
	fs.DurationVar(&c.RedeliverInterval, "redeliver.interval", 500*time.Millisecond, "how often the redeliverer looks for orders still awaiting paymentsvc")
	fs.DurationVar(&c.Backoff.Min, "redeliver.backoff.min", time.Second, "wait before an awaited event is first published again")
	fs.DurationVar(&c.Backoff.Max, "redeliver.backoff.max", 30*time.Second, "cap of the exponential wait between redeliveries")
	fs.DurationVar(&c.ClaimTTL, "claim.ttl", 10*time.Minute, "how long a handled event id stays claimed by the replica that handles it")
	httpserver.RegisterDebugFlag(fs, &c.DebugAddr)
	fs.DurationVar(&c.ShutdownTimeout, "shutdown.timeout", 10*time.Second, "how long in-flight requests may take to finish at shutdown")
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if err := c.Redis.Validate(); err != nil {
		return err
	}
	switch {
	case c.MaxInFlight < 1 || c.MaxQueued < 0:
		return errors.New("-http.max-inflight must be at least 1 and -http.max-queued at least 0")
	case c.RedeliverInterval <= 0:
		return errors.New("-redeliver.interval must be positive")
	case c.Backoff.Min <= 0 || c.Backoff.Max < c.Backoff.Min:
		return errors.New("-redeliver.backoff.min must be positive and at most -redeliver.backoff.max")
	case c.ClaimTTL <= 0:
		return errors.New("-claim.ttl must be positive")
	case c.ShutdownTimeout <= 0:
		return errors.New("-shutdown.timeout must be positive")
	}
	return nil
}

// Run builds ordersvc's component graph and runs it until ctx is cancelled
// or an actor fails. It fails fast when MongoDB or Redis is unreachable or
// the HTTP address is taken.
func Run(ctx context.Context, cfg Config, logger log.Logger, tracing *telemetry.Tracing) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	m := prommetrics.NewMetrics("ordersvc")
	mongoClient, err := mongostore.Connect(ctx, cfg.Mongo)
	if err != nil {
		return err
	}
	defer mongoClient.Disconnect(context.Background())
	// What every order costs Redis (and MongoDB, counted by db below): make
	// bench reads these.
	rdb, err := pubsub.Connect(ctx, cfg.Redis, pubsub.CountCommands(m.RedisCommands()))
	if err != nil {
		return err
	}
	defer rdb.Close()

	db, err := mongostore.New(ctx, mongoClient, cfg.Mongo.Database, mongostore.CountCommands(m.StoreCommands()))
	if err != nil {
		return err
	}
	store, err := orderstore.NewStore(ctx, db, cfg.Backoff, log.With(logger, "component", "outbox"))
	if err != nil {
		return err
	}
	svc := order.NewService(store, orderevents.NewPublisher(pubsub.NewPublisher(rdb, pubsub.PublishTraced(tracing))), log.With(logger, "component", "orders"))
	// One set of decorators for every endpoint, fed by HTTP or by Redis.
	decorate := instrument.Middlewares(log.With(logger, "component", "api"),
		m.Counter("api_requests_total", "Calls of the order API and of the payment events, by method and failure.", "method", "error"),
		m.Histogram("api_request_duration_seconds", "Duration of calls of the order API and of the payment events.", "method", "error"),
		"GetOrder", "ListOrders")
	handlers := pubsub.Decorate(orderevents.MakeHandlers(eventapi.MakeEndpoints(svc, decorate)),
		pubsub.Recover(log.With(logger, "component", "subscriber")), pubsub.Retry(3, 100*time.Millisecond, nil))
	consumer := pubsub.NewConsumer(rdb, handlers, log.With(logger, "component", "subscriber"),
		pubsub.ClaimEvents("ordersvc", cfg.ClaimTTL), pubsub.DrainTimeout(cfg.ShutdownTimeout),
		pubsub.ConsumeTraced(tracing),
		pubsub.Instrument(m.Counter("messages_total", "Payment events received, by channel and result.", "channel", "result")))
	redeliveries := m.Counter("redeliveries_total", "Order events published again because paymentsvc had not answered.")
	redeliveries.Add(0) // on /metrics from the start
	redeliverer := order.NewRedeliverer(store, svc, cfg.RedeliverInterval, redeliveries, log.With(logger, "component", "redeliverer"))

	apiMux := http.NewServeMux()
	orderapi.MakeHTTPHandler(apiMux, orderapi.MakeServerEndpoints(svc, decorate), logger)
	apiMux.HandleFunc("/", httperr.NotFound)
	mux := http.NewServeMux()
	mux.Handle("/v1/", orderapi.RequireToken(cfg.InternalToken, httperr.LimitInFlight(cfg.MaxInFlight, cfg.MaxQueued, apiMux)))
	mux.Handle("GET /metrics", m.Handler())
	// A replica serves the order API without Redis (the outbox announces
	// later) and answers a clear 503 without MongoDB, like every other
	// replica: neither outage is a reason to send it no traffic.
	httpserver.MountHealth(mux, nil, map[string]httpserver.Check{
		"mongodb":      mongostore.Check(mongoClient),
		"redis":        pubsub.Check(rdb),
		"subscription": consumer.Check,
	})
	mux.HandleFunc("/", httperr.NotFound)
	ln, err := httpserver.Listen(cfg.HTTPAddr, "http.addr", process.EnvName(EnvPrefix, "http.addr"))
	if err != nil {
		return err
	}

	var g run.Group
	ctx = process.AddContext(ctx, &g)
	if err := httpserver.AddDebugServer(&g, cfg.DebugAddr, process.EnvName(EnvPrefix, "debug.addr"), logger); err != nil {
		ln.Close()
		return err
	}
	// A call of the order API continues the gateway's trace.
	traced := tracing.Handler(mux, "ordersvc", otelhttp.WithFilter(func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/v1/") }),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return "ordersvc " + r.Method }))
	httpserver.AddServer(&g, httpserver.NewServer(traced), ln, cfg.ShutdownTimeout, logger)
	g.Add(func() error { return consumer.Run(ctx) }, func(error) {})
	g.Add(func() error { return redeliverer.Run(ctx) }, func(error) {})
	return g.Run()
}
