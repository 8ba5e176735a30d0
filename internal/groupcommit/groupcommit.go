// Package groupcommit lets the requests that goroutines make at the same
// time share one write: while one write is on its way, the requests that
// arrive wait for it and then go together as the next. A lone request
// waits for nothing; under load a round trip serves several.
package groupcommit

import (
	"context"
	"sync"
	"time"
)

// Request is one caller's item, with the caller's context.
type Request[T any] struct {
	Ctx  context.Context
	Item T
}

// Queue writes requests in groups. The zero value is not ready: use New.
type Queue[T any] struct {
	write func([]Request[T]) []error
	max   int

	mu      sync.Mutex
	pending []waiting[T]
	busy    bool // a goroutine is writing; it takes what is pending next
}

type waiting[T any] struct {
	Request[T]
	done chan error
}

// New returns a Queue that writes up to max requests at once (0: all that
// are pending) with write, which returns one answer per request, in order.
func New[T any](max int, write func([]Request[T]) []error) *Queue[T] {
	return &Queue[T]{write: write, max: max}
}

// Do has item written, and returns its answer. A caller that finds no
// write on its way makes the write itself, and waits for it; one that
// waits for another's returns ctx's error once ctx is done (its item may
// still be written then).
func (q *Queue[T]) Do(ctx context.Context, item T) error {
	w := waiting[T]{Request: Request[T]{Ctx: ctx, Item: item}, done: make(chan error, 1)}
	q.mu.Lock()
	q.pending = append(q.pending, w)
	lead := !q.busy
	q.busy = true
	q.mu.Unlock()
	if lead {
		q.flush()
	}
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flush writes what is pending, and hands what arrives meanwhile to
// another goroutine, so that a caller's answer waits for its own write
// only.
func (q *Queue[T]) flush() {
	q.mu.Lock()
	n := len(q.pending)
	if q.max > 0 {
		n = min(n, q.max)
	}
	group := q.pending[:n:n]
	q.pending = q.pending[n:]
	q.mu.Unlock()

	reqs := make([]Request[T], len(group))
	for i, w := range group {
		reqs[i] = w.Request
	}
	for i, err := range q.write(reqs) {
		group[i].done <- err
	}

	q.mu.Lock()
	more := len(q.pending) > 0
	q.busy = more
	q.mu.Unlock()
	if more {
		go q.flush()
	}
}

// Context returns the context of a write that serves the callers of ctxs:
// none of them may cancel it, and it runs until the last of their
// deadlines, or without one when one of them has none (the store's own
// timeout then bounds it).
func Context(ctxs []context.Context) (context.Context, context.CancelFunc) {
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
