// Package keyedlock serialises work per key inside a process.
package keyedlock

import "sync"

// Locks serialises work per key (an order id, a user) inside a
// process. Keys that differ never wait for each other; a key's lock is
// freed when nobody holds or waits for it. The zero value is ready to use.
type Locks struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	mu   sync.Mutex
	refs int // holders and waiters
}

// Lock locks key and returns its unlock.
func (l *Locks) Lock(key string) (unlock func()) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[string]*keyedLock{}
	}
	k := l.locks[key]
	if k == nil {
		k = &keyedLock{}
		l.locks[key] = k
	}
	k.refs++
	l.mu.Unlock()
	k.mu.Lock()
	return func() {
		k.mu.Unlock()
		l.mu.Lock()
		if k.refs--; k.refs == 0 {
			delete(l.locks, key)
		}
		l.mu.Unlock()
	}
}
