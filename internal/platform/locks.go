package platform

import (
	"hash/fnv"
	"sync"
)

// KeyedLocks serialises work per key (an order id) inside a process, with a
// fixed set of mutexes: keys that share a mutex wait for each other, which
// costs a little concurrency and no memory per key.
type KeyedLocks struct {
	mu [64]sync.Mutex
}

// Lock locks key and returns its unlock.
func (l *KeyedLocks) Lock(key string) (unlock func()) {
	h := fnv.New32a()
	h.Write([]byte(key))
	m := &l.mu[h.Sum32()%uint32(len(l.mu))]
	m.Lock()
	return m.Unlock
}
