package paymentsvc

import (
	"context"
	"errors"
	"flag"
	"net/http"
	"time"

	"github.com/go-kit/log"
	"github.com/oklog/run"

	"github.com/orderflow/orderflow/internal/docstore/mongostore"
	"github.com/orderflow/orderflow/internal/httpserver"
	"github.com/orderflow/orderflow/internal/process"
	"github.com/orderflow/orderflow/internal/prommetrics"

	"github.com/orderflow/orderflow/transport/httperr"
	"github.com/orderflow/orderflow/transport/pubsub"
)

// EnvPrefix starts the name of every environment variable paymentsvc reads.
const EnvPrefix = "PAYMENTSVC"

// Config is paymentsvc's configuration; its flags are the whole of it.
type Config struct {
	HTTPAddr        string
	Mongo           mongostore.Config
	Redis           pubsub.Config
	ClaimTTL        time.Duration
	ChargeLease     time.Duration
	DebugAddr       string
	ShutdownTimeout time.Duration
}

// RegisterFlags defines the flags of c on fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.HTTPAddr, "http.addr", ":7002", "address of /healthz and /readyz")
	c.Mongo.RegisterFlags(fs, "payments")
	c.Redis.RegisterFlags(fs)
	fs.DurationVar(&c.ClaimTTL, "claim.ttl", 10*time.Minute, "how long an event stays claimed by the replica that handles it")
	fs.DurationVar(&c.ChargeLease, "charge.lease", 30*time.Second, "how long a replica may take over a charge or refund before another may take it over")
	httpserver.RegisterDebugFlag(fs, &c.DebugAddr)
	fs.DurationVar(&c.ShutdownTimeout, "shutdown.timeout", 10*time.Second, "how long in-flight requests may take to finish at shutdown")
}

// Run builds paymentsvc's component graph and runs it until ctx is
// cancelled or an actor fails.
func Run(ctx context.Context, cfg Config, logger log.Logger) error {
	if cfg.ClaimTTL <= 0 || cfg.ChargeLease <= 0 {
		return errors.New("-claim.ttl and -charge.lease must be positive")
	}
	mongoClient, err := mongostore.Connect(ctx, cfg.Mongo)
	if err != nil {
		return err
	}
	defer mongoClient.Disconnect(context.Background())
	rdb, err := pubsub.Connect(ctx, cfg.Redis, logger)
	if err != nil {
		return err
	}
	defer rdb.Close()

	repo, err := NewStore(ctx, mongostore.New(mongoClient.Database(cfg.Mongo.Database)))
	if err != nil {
		return err
	}
	m := prommetrics.NewMetrics("paymentsvc")
	svc := NewService(repo, DemoCharger{}, NewEventPublisher(pubsub.NewPublisher(rdb)), cfg.ChargeLease, process.ReplicaName(), logger)
	consumer := pubsub.NewConsumer(rdb, MakeEventHandlers(svc), log.With(logger, "component", "subscriber"),
		pubsub.ClaimEvents("paymentsvc", cfg.ClaimTTL),
		pubsub.Instrument(m.Counter("messages_total", "Order events received, by channel and result.", "channel", "result")))

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	httpserver.MountHealth(mux, map[string]httpserver.Check{
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
	httpserver.AddServer(&g, httpserver.NewServer(mux), ln, cfg.ShutdownTimeout, logger)
	g.Add(func() error { return consumer.Run(ctx) }, func(error) {})
	return g.Run()
}
