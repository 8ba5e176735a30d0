package order

import (
	"context"
	"time"

	"github.com/go-kit/kit/metrics"
	"github.com/go-kit/log"
)

// Redeliverer sweeps the outbox: every order still awaiting paymentsvc when
// its entry comes due is announced again. Redis pub/sub drops messages
// nobody was subscribed for, so the stored order, not the message, drives
// the flow.
type Redeliverer struct {
	outbox       Outbox
	svc          *Orders
	interval     time.Duration
	redeliveries metrics.Counter
	logger       log.Logger
}

// NewRedeliverer returns a Redeliverer that sweeps every interval and
// counts the announcements it makes again in redeliveries.
func NewRedeliverer(outbox Outbox, svc *Orders, interval time.Duration, redeliveries metrics.Counter, logger log.Logger) *Redeliverer {
	return &Redeliverer{outbox: outbox, svc: svc, interval: interval, redeliveries: redeliveries, logger: logger}
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

// RedeliverDue announces again every order whose outbox entry is due now.
func (r *Redeliverer) RedeliverDue(ctx context.Context) error {
	return r.outbox.Sweep(ctx, func(ctx context.Context, o Order, attempt int) error {
		r.svc.Redeliver(ctx, o, attempt)
		r.redeliveries.Add(1)
		return nil
	})
}
