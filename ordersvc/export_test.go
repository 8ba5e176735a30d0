package ordersvc

import "time"

// SetOutboxClock makes the outbox read the time from now, for tests that
// move time on.
func SetOutboxClock(o *Outbox, now func() time.Time) { o.now = now }

// SetServiceClock makes the service read the time from now.
func SetServiceClock(s *OrderService, now func() time.Time) { s.now = now }

// OutboxTimes are the outbox's slot timings, for tests that wait them out.
const (
	OutboxSweepGrace    = sweepGrace
	OutboxTakeoverAfter = takeoverAfter
	OutboxEpochSlots    = epochSlots
)

// RequestHash is requestHash, for tests that claim a key as a request would.
func RequestHash(n NewOrder) string { return requestHash(n) }
