package orderstore

// The outbox's slot timings, for tests that wait them out.
const (
	OutboxSweepGrace = sweepGrace
	OutboxEpochSlots = epochSlots
)
