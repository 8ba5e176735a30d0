// Package correlationhttp moves the correlation id (package correlation) in
// and out of HTTP requests, as the X-Request-Id header.
package correlationhttp

import (
	"context"
	"net/http"

	"github.com/orderflow/orderflow/internal/correlation"
)

// Header is the HTTP header that carries the id.
const Header = "X-Request-Id"

// Middleware gives every request an id: the caller's X-Request-Id when it is
// a sane token, else a new one. The id is put in the request's context and
// returned in the response header.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(Header)
		if !correlation.Valid(id) {
			id = correlation.New()
		}
		w.Header().Set(Header, id)
		next.ServeHTTP(w, r.WithContext(correlation.NewContext(r.Context(), id)))
	})
}

// FromHTTPRequest is a go-kit ServerRequestFunc that puts the request's id
// into the context.
func FromHTTPRequest(ctx context.Context, r *http.Request) context.Context {
	if id := r.Header.Get(Header); correlation.Valid(id) {
		return correlation.NewContext(ctx, id)
	}
	if correlation.FromContext(ctx) != "" {
		return ctx
	}
	return correlation.NewContext(ctx, correlation.New())
}

// ToHTTPRequest is a go-kit ClientRequestFunc that sends the context's id.
func ToHTTPRequest(ctx context.Context, r *http.Request) context.Context {
	if id := correlation.FromContext(ctx); id != "" {
		r.Header.Set(Header, id)
	}
	return ctx
}
