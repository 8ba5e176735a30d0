package ordersvc

import (
	"context"
	"time"

	"github.com/go-kit/kit/metrics"
	"github.com/go-kit/log"
)

// Redeliverer publishes again the event of every order that still awaits
// paymentsvc past its NextPublishAt: Redis pub/sub drops messages nobody was
// subscribed for, so the stored order, not the message, drives the flow.
type Redeliverer struct {
	svc          *OrderService
	interval     time.Duration
	batch        int
	redeliveries metrics.Counter
	logger       log.Logger
}

// NewRedeliverer returns a Redeliverer that looks for due orders every
// interval and counts the orders it republishes in redeliveries.
func NewRedeliverer(svc *OrderService, interval time.Duration, redeliveries metrics.Counter, logger log.Logger) *Redeliverer {
	return &Redeliverer{svc: svc, interval: interval, batch: 100, redeliveries: redeliveries, logger: logger}
}

// Run redelivers until ctx is cancelled.
func (r *Redeliverer) Run(ctx context.Context) error {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		err := r.RedeliverDue(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil
		case err != nil && !failing:
			r.logger.Log("msg", "redelivery failing; will retry", "err", err)
		case err == nil && failing:
			r.logger.Log("msg", "redelivery recovered")
		}
		failing = err != nil
	}
}

// RedeliverDue redelivers the orders due now, one batch.
func (r *Redeliverer) RedeliverDue(ctx context.Context) error {
	due, err := r.svc.repo.Due(ctx, r.svc.now(), r.batch)
	if err != nil {
		return err
	}
	for _, o := range due {
		claimed, err := r.svc.Redeliver(ctx, o)
		if err != nil {
			return err
		}
		if claimed {
			r.redeliveries.Add(1)
		}
	}
	return nil
}
