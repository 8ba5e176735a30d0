// Command flowsvc serves the flow page: each order's journey through the
// services, live, from their events on Redis. -h lists its flags.
package main

import (
	"context"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/flowsvc"
	"github.com/orderflow/orderflow/internal/process"
	"github.com/orderflow/orderflow/internal/telemetry"
	"github.com/orderflow/orderflow/transport/pubsub"
)

func main() {
	var cfg flowsvc.Config
	process.Main("flowsvc", flowsvc.EnvPrefix, cfg.RegisterFlags, func(ctx context.Context, logger log.Logger, tracing *telemetry.Tracing) error {
		pubsub.RouteLogs(logger)
		return flowsvc.Run(ctx, cfg, logger, tracing)
	})
}
