package devstack

import (
	"fmt"

	"github.com/alicebob/miniredis/v2"
)

// StartMiniredis serves an in-process Redis-compatible server on addr, for
// machines without redis-server.
func StartMiniredis(addr string) (*miniredis.Miniredis, error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr(addr); err != nil {
		return nil, fmt.Errorf("start in-process redis on %s: %w", addr, err)
	}
	return m, nil
}
