package flowsvc

import (
	"context"
	"net/http"
	"time"

	"github.com/go-kit/log"
	"github.com/oklog/run"

	"github.com/orderflow/orderflow/flowsvc/flow"
	"github.com/orderflow/orderflow/flowsvc/flowevents"
	"github.com/orderflow/orderflow/flowsvc/flowweb"
	"github.com/orderflow/orderflow/internal/httpserver"
	"github.com/orderflow/orderflow/internal/process"
	"github.com/orderflow/orderflow/internal/prommetrics"
	"github.com/orderflow/orderflow/internal/telemetry"
	"github.com/orderflow/orderflow/transport/httperr"
	"github.com/orderflow/orderflow/transport/pubsub"
)

// gatewayTimeout bounds a call of the gateway through the proxy.
const gatewayTimeout = 10 * time.Second

// Run builds flowsvc's component graph and runs it until ctx is cancelled
// or an actor fails. It fails fast on a configuration that cannot work,
// and when Redis is unreachable or the HTTP address is taken.
func Run(ctx context.Context, cfg Config, logger log.Logger, tracing *telemetry.Tracing) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	rdb, err := pubsub.Connect(ctx, cfg.Redis)
	if err != nil {
		return err
	}
	defer rdb.Close()

	m := prommetrics.NewMetrics("flowsvc")
	dropped := m.Counter("stream_dropped_total", "Steps not sent to a page because it read too slowly.")
	connections := m.Counter("stream_connections_total", "Streams of /events opened.")
	dropped.Add(0) // on /metrics from the start
	connections.Add(0)
	board := flow.NewBoard(flow.Options{History: cfg.History, Dropped: dropped})
	// No pubsub.ClaimEvents: every replica sees every event, so each can
	// show the whole flow to the pages connected to it.
	consumer := pubsub.NewConsumer(rdb, flowevents.MakeHandlers(board), log.With(logger, "component", "subscriber"),
		pubsub.ConsumeTraced(tracing),
		pubsub.Instrument(m.Counter("messages_total", "Events received, by channel and result.", "channel", "result")))
	receivers := flowevents.NewReceivers(rdb, flowevents.Channels, time.Second, log.With(logger, "component", "receivers"))
	stream := flowweb.NewStream(board, receivers.Counts, log.With(logger, "component", "stream"),
		flowweb.CountConnections(connections))
	proxy := flowweb.NewProxy(cfg.GatewayURL, &http.Client{Timeout: gatewayTimeout}, log.With(logger, "component", "proxy"))

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	// A replica shows the flow once subscribed; Redis and the gateway are
	// every replica's, and reported only.
	httpserver.MountHealth(mux, map[string]httpserver.Check{"subscription": consumer.Check}, map[string]httpserver.Check{
		"redis":   pubsub.Check(rdb),
		"gateway": proxy.Check,
	})
	flowweb.Mount(mux, stream, proxy)
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
	srv := httpserver.NewServer(mux)
	// Streams last until the page leaves: end them when the server stops,
	// or Shutdown would wait for them until its timeout.
	srv.RegisterOnShutdown(stream.Close)
	httpserver.AddServer(&g, srv, ln, cfg.ShutdownTimeout, logger)
	g.Add(func() error { return consumer.Run(ctx) }, func(error) {})
	g.Add(func() error { return receivers.Run(ctx) }, func(error) {})
	return g.Run()
}
