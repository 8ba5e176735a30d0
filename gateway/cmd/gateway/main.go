// Command gateway serves the public order API on :7000, with Swagger UI at
// /api. -h lists its flags.
package main

import (
	"context"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/gateway"
	"github.com/orderflow/orderflow/internal/process"
)

func main() {
	var cfg gateway.Config
	process.Main("gateway", gateway.EnvPrefix, cfg.RegisterFlags, func(ctx context.Context, logger log.Logger) error {
		return gateway.Run(ctx, cfg, logger)
	}, gateway.TokenCommand)
}
