// Command devstack runs the whole order system on one machine with nothing
// but Go installed: `make run`. -h lists its flags.
package main

import (
	"context"
	"os"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/devstack"
	"github.com/orderflow/orderflow/internal/process"
	"github.com/orderflow/orderflow/internal/telemetry"
	"github.com/orderflow/orderflow/transport/pubsub"
)

func main() {
	var cfg devstack.Config
	process.Main("devstack", "", cfg.RegisterFlags, func(ctx context.Context, logger log.Logger, tracing *telemetry.Tracing) error {
		pubsub.RouteLogs(logger)
		return devstack.Run(ctx, cfg, os.Stderr, tracing)
	})
}
