package paymentsvc

import (
	"errors"
	"flag"
	"time"

	"github.com/orderflow/orderflow/internal/docstore/mongostore"
	"github.com/orderflow/orderflow/internal/httpserver"
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
	ChargeLeased    bool
	DebugAddr       string
	ShutdownTimeout time.Duration
}

// RegisterFlags defines the flags of c on fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.HTTPAddr, "http.addr", ":7002", "address of /healthz, /readyz and /metrics")
	c.Mongo.RegisterFlags(fs, "payments")
	c.Redis.RegisterFlags(fs)
	fs.DurationVar(&c.ClaimTTL, "claim.ttl", 10*time.Minute, "how long an event stays claimed by the replica that handles it")
	fs.DurationVar(&c.ChargeLease, "charge.lease", 30*time.Second, "how long a replica may take over a charge or refund before another may take it over")
	fs.BoolVar(&c.ChargeLeased, "charge.leased", false, "ask the demo rule as a payment provider is asked: each replica claims a numbered attempt, held for -charge.lease, before each charge or refund (the rule calls nobody and needs none; this proves the protocol a provider needs)")
	httpserver.RegisterDebugFlag(fs, &c.DebugAddr)
	fs.DurationVar(&c.ShutdownTimeout, "shutdown.timeout", 10*time.Second, "how long in-flight requests may take to finish at shutdown")
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if err := c.Redis.Validate(); err != nil {
		return err
	}
	switch {
	case c.ClaimTTL <= 0:
		return errors.New("-claim.ttl must be positive")
	case c.ChargeLease <= 0:
		return errors.New("-charge.lease must be positive")
	case c.ShutdownTimeout <= 0:
		return errors.New("-shutdown.timeout must be positive")
	}
	return nil
}
