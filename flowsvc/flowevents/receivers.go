package flowevents

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/redis/go-redis/v9"
)

// Receivers counts the subscribers of each channel (PUBSUB NUMSUB), once
// an interval: how many processes a PUBLISH on it reaches, flowsvc's own
// replicas included.
type Receivers struct {
	client   *redis.Client
	channels []string
	interval time.Duration
	logger   log.Logger

	mu     sync.Mutex
	counts map[string]int64 // nil while unknown
}

// NewReceivers returns a counter of the subscribers of channels.
func NewReceivers(client *redis.Client, channels []string, interval time.Duration, logger log.Logger) *Receivers {
	return &Receivers{client: client, channels: channels, interval: interval, logger: logger}
}

// Run counts until ctx is cancelled. While Redis does not answer the
// counts are unknown; the failure is logged once, not at every interval.
func (r *Receivers) Run(ctx context.Context) error {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	failing := false
	for {
		counts, err := r.client.PubSubNumSub(ctx, r.channels...).Result()
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case err != nil && !failing:
			r.logger.Log("msg", "cannot count the receivers of the channels", "err", err)
		case err == nil && failing:
			r.logger.Log("msg", "counting the receivers of the channels again")
		}
		failing = err != nil
		if err != nil {
			counts = nil
		}
		r.mu.Lock()
		r.counts = counts
		r.mu.Unlock()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil
		}
	}
}

// Counts returns the last counts by channel, or nil when they are unknown.
func (r *Receivers) Counts() map[string]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.counts)
}
