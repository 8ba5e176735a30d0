// Package instrument decorates go-kit endpoints with what an operator
// watches, whatever transport feeds them: one log line per call, and the
// calls counted and timed by method and by whether they failed. An endpoint
// fed by HTTP and one fed by a Redis message get the same decorators, as
// go-kit's addsvc builds one endpoint set and mounts it on every transport.
package instrument

import (
	"context"
	"strconv"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/metrics"
	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/internal/correlation"
	"github.com/orderflow/orderflow/internal/telemetry"
)

// Keyvaler is a request or response that says, as key/value pairs for a
// log line, what it is about: order_id, payment_status...
type Keyvaler interface {
	Keyvals() []any
}

// Decorators returns the decorators of the endpoint of each method. A nil
// Decorators decorates nothing.
type Decorators func(method string) endpoint.Middleware

// Decorate returns e, the endpoint of method, decorated.
func (d Decorators) Decorate(method string, e endpoint.Endpoint) endpoint.Endpoint {
	if d == nil {
		return e
	}
	return d(method)(e)
}

// Middlewares returns, for each method, the decorators of its endpoint:
// Logging to logger, then Metrics into requests and latency. The methods
// in quiet are logged only when they fail: clients poll them.
func Middlewares(logger log.Logger, requests metrics.Counter, latency metrics.Histogram, quiet ...string) Decorators {
	return func(method string) endpoint.Middleware {
		q := false
		for _, m := range quiet {
			q = q || m == method
		}
		return endpoint.Chain(Metrics(requests, latency, method), Logging(logger, method, q))
	}
}

// Logging logs each call of the endpoint of method as one line: the method,
// what the request and the response say of themselves (Keyvaler), the
// correlation and trace ids, how long it took, and how it ended (err: the
// endpoint's error, or the business error its response carries as an
// endpoint.Failer). quiet logs only the calls that failed.
func Logging(logger log.Logger, method string, quiet bool) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request any) (response any, err error) {
			defer func(begin time.Time) {
				failure := Failure(response, err)
				if quiet && failure == nil {
					return
				}
				kv := []any{"method", method}
				kv = appendKeyvals(kv, request)
				kv = appendKeyvals(kv, response)
				if id := correlation.FromContext(ctx); id != "" {
					kv = append(kv, "correlation_id", id)
				}
				kv = append(kv, telemetry.LogKeys(ctx)...)
				logger.Log(append(kv, "took", time.Since(begin), "err", failure)...)
			}(time.Now())
			return next(ctx, request)
		}
	}
}

// Metrics counts and times each call of the endpoint of method, labelled by
// method and by whether it failed (error "true" or "false"). Both series
// exist from the start, so that a rate over them is defined before the
// first call.
func Metrics(requests metrics.Counter, latency metrics.Histogram, method string) endpoint.Middleware {
	for _, failed := range []string{"false", "true"} {
		requests.With("method", method, "error", failed).Add(0)
	}
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request any) (response any, err error) {
			defer func(begin time.Time) {
				lvs := []string{"method", method, "error", strconv.FormatBool(Failure(response, err) != nil)}
				requests.With(lvs...).Add(1)
				latency.With(lvs...).Observe(time.Since(begin).Seconds())
			}(time.Now())
			return next(ctx, request)
		}
	}
}

// Failure is how a call ended: the endpoint's error, else the business
// error its response carries, else nil.
func Failure(response any, err error) error {
	if err != nil {
		return err
	}
	if f, ok := response.(endpoint.Failer); ok {
		return f.Failed()
	}
	return nil
}

func appendKeyvals(kv []any, v any) []any {
	if k, ok := v.(Keyvaler); ok {
		return append(kv, k.Keyvals()...)
	}
	return kv
}
