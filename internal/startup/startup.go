// Package startup waits for a dependency that may be starting too, and names
// it in messages without its credentials.
package startup

import (
	"context"
	"net/url"
	"time"
)

// Timeout bounds how long a service waits for a dependency at start before
// it gives up with a clear message.
const Timeout = 10 * time.Second

// Await calls ping until it succeeds, fails with an error that will not
// change (final), or timeout passes. It returns the last error the
// dependency gave rather than the deadline's.
func Await(ctx context.Context, timeout time.Duration, ping func(context.Context) error, final func(error) bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		err := ping(ctx)
		if err == nil || final(err) {
			return err
		}
		if last == nil || ctx.Err() == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return last
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Redact returns a URL with its password replaced, fit for logs and errors.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
