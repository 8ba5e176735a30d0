package paymentsvc

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/go-kit/log"
	"github.com/oklog/run"

	"github.com/orderflow/orderflow/internal/docstore/mongostore"
	"github.com/orderflow/orderflow/internal/httpserver"
	"github.com/orderflow/orderflow/internal/instrument"
	"github.com/orderflow/orderflow/internal/process"
	"github.com/orderflow/orderflow/internal/prommetrics"
	"github.com/orderflow/orderflow/internal/telemetry"
	"github.com/orderflow/orderflow/paymentsvc/payment"
	"github.com/orderflow/orderflow/paymentsvc/paymentapi"
	"github.com/orderflow/orderflow/paymentsvc/paymentevents"
	"github.com/orderflow/orderflow/paymentsvc/paymentstore"
	"github.com/orderflow/orderflow/transport/httperr"
	"github.com/orderflow/orderflow/transport/pubsub"
)

// Run builds paymentsvc's component graph and runs it until ctx is
// cancelled or an actor fails. It fails fast on a configuration that cannot
// work, and when MongoDB or Redis is unreachable or the HTTP address is taken.
func Run(ctx context.Context, cfg Config, logger log.Logger, tracing *telemetry.Tracing) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	m := prommetrics.NewMetrics("paymentsvc")
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
	repo, err := paymentstore.NewStore(ctx, db)
	if err != nil {
		return err
	}
	events := paymentevents.NewPublisher(pubsub.NewPublisher(rdb, pubsub.PublishTraced(tracing)))
	var charger payment.Charger = payment.DemoCharger{}
	if cfg.ChargeLeased {
		charger = payment.Leased(charger)
	}
	svc := payment.NewService(repo, charger, events, cfg.ChargeLease, process.ReplicaName(), log.With(logger, "component", "payments"))
	decorate := instrument.Middlewares(log.With(logger, "component", "api"),
		m.Counter("api_requests_total", "Calls of the payment service, by method and failure.", "method", "error"),
		m.Histogram("api_request_duration_seconds", "Duration of calls of the payment service.", "method", "error"))
	// Another replica's lease on an order is not a failure a retry in
	// a moment would pass.
	retryable := func(err error) bool {
		return !errors.Is(err, payment.ErrBusy) && !errors.Is(err, payment.ErrNothingToRefund)
	}
	handlers := pubsub.Decorate(paymentevents.MakeHandlers(paymentapi.MakeEndpoints(svc, decorate)),
		pubsub.Recover(log.With(logger, "component", "subscriber")), pubsub.Retry(3, 100*time.Millisecond, retryable))
	consumer := pubsub.NewConsumer(rdb, handlers, log.With(logger, "component", "subscriber"),
		pubsub.ClaimEvents("paymentsvc", cfg.ClaimTTL), pubsub.DrainTimeout(cfg.ShutdownTimeout),
		pubsub.ConsumeTraced(tracing),
		pubsub.Instrument(m.Counter("messages_total", "Order events received, by channel and result.", "channel", "result")))

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	// A replica does its work once subscribed; MongoDB and Redis are
	// every replica's, and reported only.
	httpserver.MountHealth(mux, map[string]httpserver.Check{"subscription": consumer.Check}, map[string]httpserver.Check{
		"mongodb": mongostore.Check(mongoClient),
		"redis":   pubsub.Check(rdb),
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
