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

// While a write is on its way, the requests that arrive go together as the
// next, at most max of them, and each gets its own answer.
func TestRequestsThatArriveDuringAWriteShareTheNext(t *testing.T) {
	release := make(chan struct{})
	var (
		mu     sync.Mutex
		groups [][]int
	)
	q := groupcommit.New(3, func(_ context.Context, items []int) []error {
		mu.Lock()
		groups = append(groups, items)
		first := len(groups) == 1
		mu.Unlock()
		if first {
			<-release
		}
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
	wg.Go(func() { errs[0] = q.Do(ctx, 0) })
	testenv.Eventually(t, 5*time.Second, "the first write never began", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(groups) == 1
	})
	for i := 1; i < 5; i++ {
		wg.Go(func() { errs[i] = q.Do(ctx, i) })
	}
	// The four wait for the first write; give them time to queue behind it.
	testenv.Eventually(t, 5*time.Second, "the requests never queued", func() bool { return q.Pending() == 4 })
	close(release)
	wg.Wait()

	if len(groups) != 3 || len(groups[0]) != 1 || len(groups[1]) != 3 || len(groups[2]) != 1 {
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
	release := make(chan struct{})
	var (
		mu     sync.Mutex
		groups [][]string
	)
	q := groupcommit.New(0, func(_ context.Context, items []string) []error {
		mu.Lock()
		groups = append(groups, items)
		first := len(groups) == 1
		mu.Unlock()
		if first {
			<-release
		}
		return make([]error, len(items))
	})
	ctx := context.Background()
	gone, cancel := context.WithCancel(ctx)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	wg.Go(func() { _ = q.Do(ctx, "first") })
	testenv.Eventually(t, 5*time.Second, "the first write never began", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(groups) == 1
	})
	for i, item := range []string{"a", "b", "c"} {
		c := ctx
		if item == "b" {
			c = gone
		}
		wg.Go(func() { errs[i] = q.Do(c, item) })
	}
	testenv.Eventually(t, 5*time.Second, "the requests never queued", func() bool { return q.Pending() == 3 })
	cancel()
	close(release)
	wg.Wait()

	if len(groups) != 2 || !slices.Equal(slices.Sorted(slices.Values(groups[1])), []string{"a", "c"}) {
		t.Errorf("want the second write of a and c, have %v", groups)
	}
	if errs[0] != nil || errs[1] != context.Canceled || errs[2] != nil {
		t.Errorf("want only b answered, with context.Canceled; have %v", errs)
	}
}
