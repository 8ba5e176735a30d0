// Package objectid makes ids in the shape of MongoDB's ObjectIDs (24
// hexadecimal characters) without linking the driver: the services name
// orders and payments before any store sees them.
//
// An id is the time in seconds, as an ObjectID starts, then 64 random bits:
// ids made later sort later (a store's index fills at its end), and knowing
// one id tells nothing of another, so an order id cannot be guessed from
// one's own. Two ids made in the same second are the same once in 2^32
// pairs; where that matters, an insert refuses the second.
package objectid

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// New returns a new id.
func New() string { return at(time.Now()) }

func at(t time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:4], uint32(t.Unix()))
	_, _ = rand.Read(b[4:]) // crypto/rand.Read never fails (Go 1.24+).
	return hex.EncodeToString(b[:])
}
