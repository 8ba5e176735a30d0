// Package objectid makes ids in the shape of MongoDB's ObjectIDs (24
// hexadecimal characters: the time in seconds, a value random per process,
// and a counter), without linking the driver: the services name orders and
// payments before any store sees them.
package objectid

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync/atomic"
	"time"
)

var (
	processUnique [5]byte
	counter       atomic.Uint32
)

func init() {
	_, _ = rand.Read(processUnique[:]) // crypto/rand.Read never fails (Go 1.24+).
	var c [4]byte
	_, _ = rand.Read(c[:])
	counter.Store(binary.BigEndian.Uint32(c[:]))
}

// New returns a new id.
func New() string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:4], uint32(time.Now().Unix()))
	copy(b[4:9], processUnique[:])
	c := counter.Add(1)
	b[9], b[10], b[11] = byte(c>>16), byte(c>>8), byte(c)
	return hex.EncodeToString(b[:])
}
