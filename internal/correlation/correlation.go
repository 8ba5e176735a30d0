// Package correlation carries, in a context, the id of the client request
// that started a flow: the gateway's request id. ordersvc stores it with an
// order, every event about the order carries it as correlationId, and every
// log line about the order names it, so one order can be followed with grep.
// Package correlationhttp moves it in and out of HTTP requests.
package correlation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"regexp"
)

type key struct{}

// NewContext returns ctx carrying id.
func NewContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// FromContext returns the id ctx carries, or "".
func FromContext(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}

var valid = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// Valid reports whether id, from a caller, is a sane token to carry on.
func Valid(id string) bool { return valid.MatchString(id) }

// New returns a new id: 128 random bits in hex.
func New() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	return hex.EncodeToString(b[:])
}
