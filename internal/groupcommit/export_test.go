package groupcommit

import "time"

// Pending is how many requests wait for the write on its way.
func (q *Queue[T]) Pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending)
}

// SetLinger sets how long the queue's goroutine waits for work.
func (q *Queue[T]) SetLinger(d time.Duration) { q.linger = d }

// Running reports whether the queue's goroutine is running.
func (q *Queue[T]) Running() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.running
}
