// Command gateway serves the public order API on :7000, with Swagger UI at
// /api. -h lists its flags.
package main

import (
	"context"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/gateway"
	"github.com/orderflow/orderflow/internal/process"
	"github.com/orderflow/orderflow/internal/telemetry"
)

func main() {
	var cfg gateway.Config
	process.Main("gateway", gateway.EnvPrefix, cfg.RegisterFlags, func(ctx context.Context, logger log.Logger, tracing *telemetry.Tracing) error {
		return gateway.Run(ctx, cfg, logger, tracing)
	}, gateway.TokenCommand)
}
