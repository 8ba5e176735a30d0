package keyedlock

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestWorkOnOneKeyIsSerialised(t *testing.T) {
	var l Locks
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			defer l.Lock("order-1")()
			n := inside.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(time.Millisecond)
			inside.Add(-1)
		})
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("want one holder of a key at a time, have %d at once", most.Load())
	}
}

func TestKeysThatDifferNeverWaitForEachOther(t *testing.T) {
	var l Locks
	unlock := l.Lock("a")
	defer unlock()
	done := make(chan struct{})
	go func() { l.Lock("b")(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("b waited for a")
	}
}

func TestAKeyIsForgottenOnceNobodyHoldsOrWaitsForIt(t *testing.T) {
	var l Locks
	for i := range 100 {
		unlock := l.Lock(string(rune('a' + i%26)))
		unlock()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.locks) != 0 {
		t.Errorf("want no key kept, have %d", len(l.locks))
	}
}
