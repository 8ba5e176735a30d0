// Package pubsub carries JSON events over Redis pub/sub in the shape of go-kit
// transports: a Publisher on the sending side, and on the receiving side a
// Subscriber per channel (decoder plus endpoint) run by a Consumer that owns the
// Redis subscription, resubscribes after Redis restarts and reports whether it
// is currently subscribed.
//
// Redis pub/sub delivers at most once. Nothing here tries to fix that: the
// services keep their state in MongoDB and republish until the other side
// answers, so a lost message costs a delay, never an order.
package pubsub

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/orderflow/orderflow/internal/telemetry"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Publisher publishes JSON messages.
type Publisher struct {
	client redis.UniversalClient
	pipe   pipeline
	tracer trace.Tracer
}

// PublisherOption sets an optional parameter of a Publisher.
type PublisherOption func(*Publisher)

// PublishTraced makes a span of each publish with tracing.
func PublishTraced(tracing *telemetry.Tracing) PublisherOption {
	return func(p *Publisher) { p.tracer = tracing.Tracer("transport/pubsub") }
}

// NewPublisher returns a Publisher on client.
func NewPublisher(client redis.UniversalClient, opts ...PublisherOption) *Publisher {
	p := &Publisher{client: client, pipe: newPipeline(client), tracer: (*telemetry.Tracing)(nil).Tracer("transport/pubsub")}
	for _, opt := range opts {
		opt(p)
	}
	return p
}

// Publish encodes v as JSON and publishes it on channel (with SPUBLISH on a
// cluster), in one pipeline with what other goroutines publish meanwhile.
// It returns how many subscribers received the message; zero means nobody
// was listening.
func (p *Publisher) Publish(ctx context.Context, channel string, v any) (receivers int64, err error) {
	ctx, span := p.tracer.Start(ctx, "publish "+channel, trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("messaging.system", "redis"), attribute.String("messaging.destination.name", channel)))
	defer func() {
		span.SetAttributes(attribute.Int64("messaging.redis.receivers", receivers))
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}()
	b, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("encode %s message: %w", channel, err)
	}
	publish := "publish"
	if Sharded(p.client) {
		publish = "spublish"
	}
	cmd := redis.NewIntCmd(ctx, publish, channel, b)
	if err := p.pipe.do(ctx, cmd); err != nil {
		return 0, fmt.Errorf("publish %s: %w", channel, err)
	}
	return cmd.Val(), nil
}
