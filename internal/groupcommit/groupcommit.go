// Package groupcommit lets the requests that goroutines make at the same
// time share one write: while one write is on its way, the requests that
// arrive wait for it and then go together as the next. A lone request
// waits for nothing; under load a round trip serves several. A request
// whose caller gave up before its group was written is left out of it.
package groupcommit

import (
	"context"
	"sync"
	"time"
)

// Write writes items, the requests of callers that still wait, with ctx,
// which serves them all (none of them may cancel it), and returns one
// answer per item, in order.
type Write[T any] func(ctx context.Context, items []T) []error

// Queue writes requests in groups. The zero value is not ready: use New.
//
// A caller that finds no write on its way writes its own request. What
// arrives meanwhile is written by the queue's own goroutine, which stays
// for a while after its last write: under load one goroutine, its stack
// grown to the depth of a write, writes group after group, rather than a
// new one for each.
type Queue[T any] struct {
	write  Write[T]
	max    int
	linger time.Duration // how long the queue's goroutine waits for work before it ends

	mu      sync.Mutex
	pending []waiting[T]
	busy    bool // a goroutine is writing; it takes what is pending next
	running bool // the queue's goroutine is running
	idle    bool // ... and waits for wake
	wake    chan struct{}
}

type waiting[T any] struct {
	ctx  context.Context
	item T
	done chan error
}

// New returns a Queue that writes up to max requests at once (0: all that
// are pending) with write.
func New[T any](max int, write Write[T]) *Queue[T] {
	return &Queue[T]{write: write, max: max, linger: time.Second, wake: make(chan struct{}, 1)}
}

// Do has item written, and returns its answer. A caller that finds no
// write on its way makes the write itself, and waits for it; one that
// waits for another's returns ctx's error once ctx is done (its item may
// still be written then).
func (q *Queue[T]) Do(ctx context.Context, item T) error {
	w := waiting[T]{ctx: ctx, item: item, done: make(chan error, 1)}
	q.mu.Lock()
	q.pending = append(q.pending, w)
	lead := !q.busy
	q.busy = true
	q.mu.Unlock()
	if lead && q.writeNext(false) {
		q.handOff()
	}
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writeNext writes the next group of what is pending, and reports whether
// more is pending: the writer then still has the queue busy, to hand on
// or write itself. Otherwise the queue is free, and the queue's goroutine,
// if it is the writer, idle.
func (q *Queue[T]) writeNext(own bool) (more bool) {
	q.mu.Lock()
	n := len(q.pending)
	if q.max > 0 {
		n = min(n, q.max)
	}
	group := q.pending[:n:n]
	q.pending = q.pending[n:]
	q.mu.Unlock()

	var (
		items []T
		live  []waiting[T]
		ctxs  []context.Context
	)
	for _, w := range group {
		if err := w.ctx.Err(); err != nil { // its caller gave up: not written
			w.done <- err
			continue
		}
		items, live, ctxs = append(items, w.item), append(live, w), append(ctxs, w.ctx)
	}
	if len(items) > 0 {
		ctx, cancel := writeContext(ctxs)
		for i, err := range q.write(ctx, items) {
			live[i].done <- err
		}
		cancel()
	}

	q.mu.Lock()
	defer q.mu.Unlock()
	more = len(q.pending) > 0
	q.busy = more
	if own {
		q.idle = !more
	}
	return more
}

// handOff gives what is pending to the queue's goroutine, starting it if
// it is not running, so that a caller's answer waits for its own write
// only. The caller has the queue busy.
func (q *Queue[T]) handOff() {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.idle:
		q.idle = false
		q.wake <- struct{}{}
	case !q.running:
		q.running = true
		go q.run()
	}
}

// run is the queue's goroutine: it writes what it is handed until nothing
// is pending, then waits for more for q.linger.
func (q *Queue[T]) run() {
	timer := time.NewTimer(q.linger)
	defer timer.Stop()
	for {
		for q.writeNext(true) {
		}
		timer.Reset(q.linger)
		select {
		case <-q.wake:
			continue
		case <-timer.C:
		}
		q.mu.Lock()
		if q.idle {
			q.idle, q.running = false, false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		<-q.wake // handed work as the wait ended
	}
}

// writeContext returns the context of a write that serves the callers of
// ctxs: none of them may cancel it, and it runs until the last of their
// deadlines, or without one when one of them has none (the store's own
// timeout then bounds it).
func writeContext(ctxs []context.Context) (context.Context, context.CancelFunc) {
	ctx := context.WithoutCancel(ctxs[0])
	var last time.Time
	for _, c := range ctxs {
		end, ok := c.Deadline()
		if !ok {
			return ctx, func() {}
		}
		if end.After(last) {
			last = end
		}
	}
	return context.WithDeadline(ctx, last)
}
