package pubsub

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/go-kit/log"
)

// HandlerMiddleware decorates a Handler, as Watermill's router middlewares
// decorate its handlers.
type HandlerMiddleware func(Handler) Handler

// HandlerFunc is a function that is a Handler.
type HandlerFunc func(ctx context.Context, payload []byte) error

// ServeMessage implements Handler.
func (f HandlerFunc) ServeMessage(ctx context.Context, payload []byte) error { return f(ctx, payload) }

// ErrPanicked wraps the error of a handler that panicked. The message is
// left to its sender's redelivery, like any other failure; the Consumer
// counts it apart.
var ErrPanicked = errors.New("handler panicked")

// Recover turns a panic of the handler into an ErrPanicked, and logs it
// with the stack where it happened: one message that crashes its handler
// must not crash the process, and with it the handling of every other.
func Recover(logger log.Logger) HandlerMiddleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, payload []byte) (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("%w: %v", ErrPanicked, p)
					logger.Log("msg", "handler panicked; the message is left to its sender's redelivery", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				}
			}()
			return next.ServeMessage(ctx, payload)
		})
	}
}

// Retry tries a failed message again, up to attempts times in all, after
// pause, doubled after each try: a store that blinked should not cost the
// seconds the sender's redelivery waits. A message that can never be
// handled (ErrUndecodable), one whose handler panicked, and one whose
// failure retryable says will not pass (nil: any other may), are not tried
// again; nor is one whose context is done.
func Retry(attempts int, pause time.Duration, retryable func(error) bool) HandlerMiddleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, payload []byte) error {
			var err error
			for try := 1; ; try++ {
				err = next.ServeMessage(ctx, payload)
				if err == nil || try >= attempts || errors.Is(err, ErrUndecodable) || errors.Is(err, ErrPanicked) ||
					(retryable != nil && !retryable(err)) {
					return err
				}
				if !sleep(ctx, pause) {
					return err
				}
				pause *= 2
			}
		})
	}
}

// Decorate returns handlers with each decorated by mws, the first
// outermost.
func Decorate(handlers map[string]Handler, mws ...HandlerMiddleware) map[string]Handler {
	out := make(map[string]Handler, len(handlers))
	for channel, h := range handlers {
		for i := len(mws) - 1; i >= 0; i-- {
			h = mws[i](h)
		}
		out[channel] = h
	}
	return out
}
