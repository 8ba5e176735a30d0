package flowevents

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/redis/go-redis/v9"
)

// Receivers counts the subscribers of each channel (PUBSUB NUMSUB, or on a
// cluster SHARDNUMSUB), once an interval: how many processes a PUBLISH on it reaches, flowsvc's own
// replicas included.
type Receivers struct {
	client   redis.UniversalClient
	channels []string
	interval time.Duration
	logger   log.Logger

	mu     sync.Mutex
	counts map[string]int64 // nil while unknown
}

// NewReceivers returns a counter of the subscribers of channels.
func NewReceivers(client redis.UniversalClient, channels []string, interval time.Duration, logger log.Logger) *Receivers {
	return &Receivers{client: client, channels: channels, interval: interval, logger: logger}
}

// Run counts until ctx is cancelled. While Redis does not answer the
// counts are unknown; the failure is logged once, not at every interval.
func (r *Receivers) Run(ctx context.Context) error {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	failing := false
	for {
		counts, err := r.count(ctx)
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

// count asks for the counts: of a cluster, each channel's of the master of
// its slot, where its sharded subscribers are.
func (r *Receivers) count(ctx context.Context) (map[string]int64, error) {
	cc, ok := r.client.(*redis.ClusterClient)
	if !ok {
		return r.client.PubSubNumSub(ctx, r.channels...).Result()
	}
	counts := make(map[string]int64, len(r.channels))
	for _, ch := range r.channels {
		master, err := cc.MasterForKey(ctx, ch)
		if err != nil {
			return nil, err
		}
		n, err := master.PubSubShardNumSub(ctx, ch).Result()
		if err != nil {
			return nil, err
		}
		counts[ch] = n[ch]
	}
	return counts, nil
}

// Counts returns the last counts by channel, or nil when they are unknown.
func (r *Receivers) Counts() map[string]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.counts)
}
