package flow

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/kit/metrics"
	"github.com/go-kit/kit/metrics/discard"
)

// Options are the parameters of a Board; a zero field takes its default.
type Options struct {
	// History is how many orders the board remembers (default 200): the
	// steps of older ones are forgotten, oldest first.
	History int
	// Buffer is how many steps a watcher may fall behind before the next
	// ones are dropped for it (default 256).
	Buffer int
	// Dropped counts the steps dropped for watchers that fell behind.
	Dropped metrics.Counter
	// Now is the clock of the orders-a-minute rate (default time.Now).
	Now func() time.Time
}

// settleSamples is how many of the last settle times the median is of.
const settleSamples = 256

// Board records the steps of orders and hands them to its watchers. Its
// memory is bounded: Options.History orders of at most five distinct
// steps each, a buffer per watcher, and fixed windows for its Stats. It is
// safe for concurrent use.
type Board struct {
	opts Options

	mu       sync.Mutex
	orders   map[string]*journey
	ring     []string // ids of the orders remembered, oldest at head
	head     int
	watchers map[*Watcher]struct{}
	created  [60]second      // orders created, by second of arrival
	settles  []time.Duration // the last settleSamples settle times, a ring
	settled  int             // settle times recorded in all
}

// journey is what the board remembers of an order: each of its steps
// once, in the order they were first seen, with how often each was seen.
type journey struct {
	steps []Step
}

type second struct {
	unix int64
	n    int
}

// NewBoard returns an empty Board.
func NewBoard(opts Options) *Board {
	if opts.History <= 0 {
		opts.History = 200
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 256
	}
	if opts.Dropped == nil {
		opts.Dropped = discard.NewCounter()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Board{
		opts:     opts,
		orders:   map[string]*journey{},
		ring:     make([]string, 0, opts.History),
		watchers: map[*Watcher]struct{}{},
		settles:  make([]time.Duration, 0, settleSamples),
	}
}

// Record records s and sends it to every watcher, with Times set: how
// often the order's step has been seen, this time included. It returns
// the step as sent. A watcher whose buffer is full misses it.
func (b *Board) Record(s Step) Step {
	b.mu.Lock()
	defer b.mu.Unlock()
	j := b.orders[s.OrderID]
	if j == nil {
		j = &journey{}
		b.remember(s.OrderID, j)
	}
	if i := slices.IndexFunc(j.steps, func(seen Step) bool { return seen.Name == s.Name }); i >= 0 {
		j.steps[i].Times++
		s.Times = j.steps[i].Times
	} else {
		s.Times = 1
		j.steps = append(j.steps, s)
		b.count(s, j)
	}
	for w := range b.watchers {
		select {
		case w.c <- s:
		default:
			w.dropped.Add(1)
			b.opts.Dropped.Add(1)
		}
	}
	return s
}

// remember adds the journey of a new order, forgetting the oldest one
// when the board is full.
func (b *Board) remember(id string, j *journey) {
	b.orders[id] = j
	if len(b.ring) < b.opts.History {
		b.ring = append(b.ring, id)
		return
	}
	delete(b.orders, b.ring[b.head])
	b.ring[b.head] = id
	b.head = (b.head + 1) % len(b.ring)
}

// count adds the first sighting of a step to the statistics: a new order
// to the rate, a charge's outcome to the settle times.
func (b *Board) count(s Step, j *journey) {
	switch {
	case s.Name == Created:
		now := b.opts.Now().Unix()
		slot := &b.created[now%int64(len(b.created))]
		if slot.unix != now {
			*slot = second{unix: now}
		}
		slot.n++
	case s.settles():
		i := slices.IndexFunc(j.steps, func(seen Step) bool { return seen.Name == Created })
		if i < 0 || s.At.Before(j.steps[i].At) {
			return
		}
		d := s.At.Sub(j.steps[i].At)
		if len(b.settles) < settleSamples {
			b.settles = append(b.settles, d)
		} else {
			b.settles[b.settled%settleSamples] = d
		}
		b.settled++
	}
}

// Watcher receives the steps a Board records after it started watching.
type Watcher struct {
	b       *Board
	c       chan Step
	dropped atomic.Int64
}

// Watch returns the steps of the orders the board remembers, oldest order
// first and each order's steps in the order they were first seen (with
// Times as it stands), and a Watcher of every step recorded from then on:
// nothing falls between the two. Close the Watcher when done.
func (b *Board) Watch() ([]Step, *Watcher) {
	b.mu.Lock()
	defer b.mu.Unlock()
	history := make([]Step, 0, len(b.ring)*2)
	for i := range b.ring {
		id := b.ring[(b.head+i)%len(b.ring)]
		history = append(history, b.orders[id].steps...)
	}
	w := &Watcher{b: b, c: make(chan Step, b.opts.Buffer)}
	b.watchers[w] = struct{}{}
	return history, w
}

// Steps delivers the steps recorded since Watch.
func (w *Watcher) Steps() <-chan Step { return w.c }

// Dropped is how many steps this watcher missed because its buffer was
// full.
func (w *Watcher) Dropped() int64 { return w.dropped.Load() }

// Close stops the deliveries.
func (w *Watcher) Close() {
	w.b.mu.Lock()
	defer w.b.mu.Unlock()
	delete(w.b.watchers, w)
}

// Stats sums up the flow.
type Stats struct {
	// OrdersPerMinute is how many new orders were seen in the last minute.
	OrdersPerMinute int
	// SettleMedian is the median time from created to paid or declined of
	// the last SettleSamples orders charged (at most 256).
	SettleMedian  time.Duration
	SettleSamples int
	// Orders is how many orders the board remembers; Watchers how many
	// watch it.
	Orders   int
	Watchers int
}

// Stats returns the statistics of the flow as they stand.
func (b *Board) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := Stats{Orders: len(b.ring), Watchers: len(b.watchers), SettleSamples: len(b.settles)}
	now := b.opts.Now().Unix()
	for _, s := range b.created {
		if s.unix > now-int64(len(b.created)) && s.unix <= now {
			st.OrdersPerMinute += s.n
		}
	}
	if n := len(b.settles); n > 0 {
		sorted := slices.Clone(b.settles)
		slices.Sort(sorted)
		if n%2 == 1 {
			st.SettleMedian = sorted[n/2]
		} else {
			st.SettleMedian = (sorted[n/2-1] + sorted[n/2]) / 2
		}
	}
	return st
}
