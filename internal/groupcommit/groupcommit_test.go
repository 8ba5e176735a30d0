package groupcommit_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/groupcommit"
	"github.com/orderflow/orderflow/internal/testenv"
)

// held is a Queue whose first write waits until release is closed, and
// which records the items of each write.
type held[T any] struct {
	q       *groupcommit.Queue[T]
	release chan struct{}
	mu      sync.Mutex
	groups  [][]T
}

// newHeld returns a held Queue of at most max items a write, which answers
// them with answer.
func newHeld[T any](max int, answer func(items []T) []error) *held[T] {
	h := &held[T]{release: make(chan struct{})}
	h.q = groupcommit.New(max, func(_ context.Context, items []T) []error {
		h.mu.Lock()
		h.groups = append(h.groups, items)
		first := len(h.groups) == 1
		h.mu.Unlock()
		if first {
			<-h.release
		}
		return answer(items)
	})
	return h
}

// hold runs first, a request, in wg, and returns once its write has begun:
// the requests made after it queue behind it.
func (h *held[T]) hold(t *testing.T, wg *sync.WaitGroup, first func()) {
	t.Helper()
	wg.Go(first)
	testenv.Eventually(t, 5*time.Second, "the first write never began", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.groups) == 1
	})
}

// While a write is on its way, the requests that arrive go together as the
// next, at most max of them, and each gets its own answer.
func TestRequestsThatArriveDuringAWriteShareTheNext(t *testing.T) {
	h := newHeld(3, func(items []int) []error {
		errs := make([]error, len(items))
		for i, item := range items {
			if item%2 == 1 {
				errs[i] = fmt.Errorf("odd %d", item)
			}
		}
		return errs
	})
	ctx := context.Background()
	errs := make([]error, 5)
	var wg sync.WaitGroup
	h.hold(t, &wg, func() { errs[0] = h.q.Do(ctx, 0) })
	for i := 1; i < 5; i++ {
		wg.Go(func() { errs[i] = h.q.Do(ctx, i) })
	}
	// The four wait for the first write; give them time to queue behind it.
	testenv.Eventually(t, 5*time.Second, "the requests never queued", func() bool { return h.q.Pending() == 4 })
	close(h.release)
	wg.Wait()

	if groups := h.groups; len(groups) != 3 || len(groups[0]) != 1 || len(groups[1]) != 3 || len(groups[2]) != 1 {
		t.Errorf("want writes of 1, 3 and 1 requests, have %v", groups)
	}
	for i, err := range errs {
		if want := i%2 == 1; (err != nil) != want || (want && err.Error() != fmt.Sprintf("odd %d", i)) {
			t.Errorf("request %d: have %v", i, err)
		}
	}
}

// Bursts of requests from many goroutines each get their own answer,
// whether the queue's goroutine is at work, waiting for more, or gone
// after a quiet spell.
func TestEveryRequestIsAnsweredAcrossBurstsAndQuietSpells(t *testing.T) {
	var writes sync.Map
	q := groupcommit.New(4, func(_ context.Context, items []int) []error {
		errs := make([]error, len(items))
		for i, item := range items {
			if _, dup := writes.LoadOrStore(item, true); dup {
				errs[i] = fmt.Errorf("%d written twice", item)
			}
		}
		time.Sleep(100 * time.Microsecond) // a round trip, during which others queue
		return errs
	})
	q.SetLinger(20 * time.Millisecond)
	ctx := context.Background()
	for burst := range 5 {
		var wg sync.WaitGroup
		errs := make([]error, 200)
		for i := range errs {
			wg.Go(func() { errs[i] = q.Do(ctx, burst*1000+i) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("burst %d, request %d: %v", burst, i, err)
			}
		}
		if burst%2 == 0 {
			testenv.Eventually(t, 5*time.Second, "the queue's goroutine never ended after the burst", func() bool { return !q.Running() })
		}
	}
}

// A write leaves out the requests whose callers gave up, and answers them
// with their contexts' errors.
func TestAWriteLeavesOutTheRequestsWhoseCallersGaveUp(t *testing.T) {
	h := newHeld(0, func(items []string) []error { return make([]error, len(items)) })
	ctx := context.Background()
	gone, cancel := context.WithCancel(ctx)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	h.hold(t, &wg, func() { _ = h.q.Do(ctx, "first") })
	for i, item := range []string{"a", "b", "c"} {
		c := ctx
		if item == "b" {
			c = gone
		}
		wg.Go(func() { errs[i] = h.q.Do(c, item) })
	}
	testenv.Eventually(t, 5*time.Second, "the requests never queued", func() bool { return h.q.Pending() == 3 })
	cancel()
	close(h.release)
	wg.Wait()

	if groups := h.groups; len(groups) != 2 || !slices.Equal(slices.Sorted(slices.Values(groups[1])), []string{"a", "c"}) {
		t.Errorf("want the second write of a and c, have %v", groups)
	}
	if errs[0] != nil || errs[1] != context.Canceled || errs[2] != nil {
		t.Errorf("want only b answered, with context.Canceled; have %v", errs)
	}
}
