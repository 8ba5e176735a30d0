package gateway

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/oklog/run"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/orderflow/orderflow/internal/httpserver"
	"github.com/orderflow/orderflow/internal/process"
	"github.com/orderflow/orderflow/internal/prommetrics"
	"github.com/orderflow/orderflow/internal/telemetry"
	"github.com/orderflow/orderflow/ordersvc/orderapi"
	"github.com/orderflow/orderflow/transport/correlationhttp"
	"github.com/orderflow/orderflow/transport/httperr"
)

// EnvPrefix starts the name of every environment variable the gateway reads.
const EnvPrefix = "GATEWAY"

// Config is the gateway's configuration; its flags are the whole of it.
type Config struct {
	HTTPAddr        string
	MetricsAddr     string
	OrdersURL       string
	OrdersTimeout   time.Duration
	InternalToken   string
	Auth            AuthConfig
	RateLimit       RateLimitConfig
	DebugAddr       string
	ShutdownTimeout time.Duration
}

// RegisterFlags defines the flags of c on fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.HTTPAddr, "http.addr", ":7000", "address of the public API")
	fs.StringVar(&c.MetricsAddr, "metrics.addr", "", "address of /metrics, apart from the public API (empty: /metrics on -http.addr)")
	fs.StringVar(&c.OrdersURL, "ordersvc.url", "http://127.0.0.1:7001", "base URL of ordersvc's internal API")
	fs.DurationVar(&c.OrdersTimeout, "ordersvc.timeout", 5*time.Second, "how long a call to ordersvc may take before the client gets a 504")
	fs.StringVar(&c.InternalToken, "internal.token", "", "token presented to ordersvc, which requires it when its own -internal.token is set (empty: none)")
	c.Auth.RegisterFlags(fs)
	c.RateLimit.RegisterFlags(fs)
	httpserver.RegisterDebugFlag(fs, &c.DebugAddr)
	fs.DurationVar(&c.ShutdownTimeout, "shutdown.timeout", 10*time.Second, "how long in-flight requests may take to finish at shutdown")
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	switch {
	case c.OrdersTimeout <= 0:
		return errors.New("-ordersvc.timeout must be positive")
	case c.ShutdownTimeout <= 0:
		return errors.New("-shutdown.timeout must be positive")
	}
	if err := c.Auth.Validate(); err != nil {
		return err
	}
	return c.RateLimit.Validate()
}

// Run builds the gateway's component graph and runs it until ctx is
// cancelled or an actor fails. It does not wait for ordersvc: until ordersvc
// answers, the API answers 503, and /readyz reports ordersvc failing.
func Run(ctx context.Context, cfg Config, logger log.Logger, tracing *telemetry.Tracing) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	// Connections to ordersvc are kept for reuse, as many as requests run
	// at once: the default keeps two, and every other request would dial.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns, transport.MaxIdleConnsPerHost = 0, 512
	httpClient := &http.Client{Timeout: cfg.OrdersTimeout, Transport: tracing.Transport(transport)}
	orders, err := orderapi.NewHTTPClient(cfg.OrdersURL, httpClient, cfg.InternalToken)
	if err != nil {
		return err
	}
	checks := map[string]httpserver.Check{
		"ordersvc": func(ctx context.Context) error { return ping(ctx, httpClient, cfg.OrdersURL+"/healthz") },
	}
	auth, err := NewAuthenticator(ctx, cfg.Auth)
	if err != nil {
		return err
	}
	limiter, err := NewRateLimiter(cfg.RateLimit)
	if err != nil {
		return err
	}
	m := prommetrics.NewMetrics("gateway")
	api := MakeHTTPHandler(orders, HandlerOptions{
		Dependencies: checks, Metrics: m, ServeMetrics: cfg.MetricsAddr == "", Auth: auth, Limiter: limiter,
	}, logger)
	if auth != nil {
		logger.Log("msg", "sign-in is on: every order route needs Authorization: Bearer <JWT>")
	}

	ln, err := httpserver.Listen(cfg.HTTPAddr, "http.addr", process.EnvName(EnvPrefix, "http.addr"))
	if err != nil {
		return err
	}
	var g run.Group
	process.AddContext(ctx, &g)
	if err := httpserver.AddDebugServer(&g, cfg.DebugAddr, process.EnvName(EnvPrefix, "debug.addr"), logger); err != nil {
		ln.Close()
		return err
	}
	if cfg.MetricsAddr != "" {
		metrics := http.NewServeMux()
		metrics.Handle("GET /metrics", m.Handler())
		metrics.Handle("/metrics", httperr.MethodNotAllowed("GET"))
		metrics.HandleFunc("/", httperr.NotFound)
		mln, err := httpserver.Listen(cfg.MetricsAddr, "metrics.addr", process.EnvName(EnvPrefix, "metrics.addr"))
		if err != nil {
			ln.Close()
			return err
		}
		httpserver.AddServer(&g, httpserver.NewServer(correlationhttp.Middleware(metrics)), mln, cfg.ShutdownTimeout, logger)
	}
	// Each request of an order route starts (or continues) a trace.
	traced := tracing.Handler(api, "gateway", otelhttp.WithFilter(func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/orders") }))
	httpserver.AddServer(&g, httpserver.NewServer(traced), ln, cfg.ShutdownTimeout, logger)
	return g.Run()
}

func ping(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
