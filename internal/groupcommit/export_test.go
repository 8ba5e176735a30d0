package groupcommit

// Pending is how many requests wait for the write on its way.
func (q *Queue[T]) Pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending)
}
