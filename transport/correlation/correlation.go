// Package correlation carries the id of the client request that started a
// flow: the gateway's request id, sent to ordersvc as the X-Request-Id header
// and put into every event as correlationId.
package correlation

import (
	"context"
	"net/http"
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

// Middleware gives every request an id: the caller's X-Request-Id when it is
// a sane token, else a new one. The id is put in the request's context and
// returned in the response header.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(Header)
		if !valid.MatchString(id) {
			id = event.NewID()
		}
		w.Header().Set(Header, id)
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
	})
}

// FromHTTPRequest is a go-kit ServerRequestFunc that puts the request's id
// into the context.
func FromHTTPRequest(ctx context.Context, r *http.Request) context.Context {
	if id := r.Header.Get(Header); valid.MatchString(id) {
		return NewContext(ctx, id)
	}
	if FromContext(ctx) != "" {
		return ctx
	}
	return NewContext(ctx, event.NewID())
}

// ToHTTPRequest is a go-kit ClientRequestFunc that sends the context's id.
func ToHTTPRequest(ctx context.Context, r *http.Request) context.Context {
	if id := FromContext(ctx); id != "" {
		r.Header.Set(Header, id)
	}
	return ctx
}
