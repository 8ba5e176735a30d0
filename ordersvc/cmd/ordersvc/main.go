// Command ordersvc serves the order API to the gateway, publishes order
// events and applies payment events. -h lists its flags.
package main

import (
	"context"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/internal/process"
	"github.com/orderflow/orderflow/internal/telemetry"
	"github.com/orderflow/orderflow/ordersvc"
	"github.com/orderflow/orderflow/transport/pubsub"
)

func main() {
	var cfg ordersvc.Config
	process.Main("ordersvc", ordersvc.EnvPrefix, cfg.RegisterFlags, func(ctx context.Context, logger log.Logger, tracing *telemetry.Tracing) error {
		pubsub.RouteLogs(logger)
		return ordersvc.Run(ctx, cfg, logger, tracing)
	})
}
