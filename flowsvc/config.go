package flowsvc

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"time"

	"github.com/orderflow/orderflow/internal/httpserver"
	"github.com/orderflow/orderflow/transport/pubsub"
)

// EnvPrefix starts the name of every environment variable flowsvc reads.
const EnvPrefix = "FLOWSVC"

// Config is flowsvc's configuration; its flags are the whole of it.
type Config struct {
	HTTPAddr string
	Redis    pubsub.Config
	// GatewayURL is the public API the page's form places orders on.
	GatewayURL string
	// History is how many orders are remembered for a page that connects.
	History         int
	DebugAddr       string
	ShutdownTimeout time.Duration
}

// RegisterFlags defines the flags of c on fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.HTTPAddr, "http.addr", ":7003", "address of the flow page, its stream /events, /healthz, /readyz and /metrics")
	c.Redis.RegisterFlags(fs)
	fs.StringVar(&c.GatewayURL, "gateway.url", "http://127.0.0.1:7000", "the public API (the gateway) the page's form places demo orders on")
	fs.IntVar(&c.History, "history", 200, "how many of the latest orders a page gets when it connects")
	httpserver.RegisterDebugFlag(fs, &c.DebugAddr)
	fs.DurationVar(&c.ShutdownTimeout, "shutdown.timeout", 10*time.Second, "how long in-flight requests may take to finish at shutdown")
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if err := c.Redis.Validate(); err != nil {
		return err
	}
	if u, err := url.Parse(c.GatewayURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-gateway.url %q is not an http:// or https:// URL", c.GatewayURL)
	}
	switch {
	case c.History <= 0:
		return errors.New("-history must be positive")
	case c.History > 100_000:
		return errors.New("-history must be at most 100000: every page that connects gets them all")
	case c.ShutdownTimeout <= 0:
		return errors.New("-shutdown.timeout must be positive")
	}
	return nil
}
