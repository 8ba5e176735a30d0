// Package correlation carries the id of the client request that started a
// flow: the gateway's request id, sent to ordersvc as the X-Request-Id header
// and put into every event as correlationId. Package correlationhttp moves it
// in and out of HTTP requests.
package correlation

import (
	"context"
	"regexp"

	"github.com/orderflow/orderflow/transport/event"
)

// Header is the HTTP header that carries the id.
const Header = "X-Request-Id"

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

// New returns a new id.
func New() string { return event.NewID() }
