// Command paymentsvc charges orders and refunds cancelled ones, driven by
// order events. -h lists its flags.
package main

import (
	"context"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/internal/process"
	"github.com/orderflow/orderflow/internal/telemetry"
	"github.com/orderflow/orderflow/paymentsvc"
	"github.com/orderflow/orderflow/transport/pubsub"
)

func main() {
	var cfg paymentsvc.Config
	process.Main("paymentsvc", paymentsvc.EnvPrefix, cfg.RegisterFlags, func(ctx context.Context, logger log.Logger, tracing *telemetry.Tracing) error {
		pubsub.RouteLogs(logger)
		return paymentsvc.Run(ctx, cfg, logger, tracing)
	})
}
