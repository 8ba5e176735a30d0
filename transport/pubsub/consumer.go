package pubsub

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/kit/metrics"
	"github.com/go-kit/kit/metrics/discard"
	"github.com/go-kit/log"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/orderflow/orderflow/internal/correlation"
	"github.com/orderflow/orderflow/internal/telemetry"
	"github.com/orderflow/orderflow/transport/event"
)

// Consumer owns the Redis subscription to a set of channels and hands each
// message to the Handler of its channel: one subscription to them all, or,
// on a cluster, a sharded one (SSUBSCRIBE) to each, on the node of its slot. Messages about the same order are
// handled one after another, in the order they arrived; messages about
// different orders are handled concurrently by a fixed set of workers.
//
// After a connection loss it reconnects and resubscribes by itself, with
// capped backoff. Active reports whether the subscription is currently in place.
type Consumer struct {
	client        redis.UniversalClient
	claims        pipeline // of the claims of events, under ClaimEvents
	handlers      map[string]Handler
	logger        log.Logger
	group         string
	claimTTL      time.Duration
	workers       int
	pingInterval  time.Duration
	handleTimeout time.Duration
	drainTimeout  time.Duration
	messages      metrics.Counter
	tracer        trace.Tracer
	active        atomic.Bool
}

// ConsumerOption sets an optional parameter of a Consumer.
type ConsumerOption func(*Consumer)

// ClaimEvents makes the replicas of a group share the work: each event id is
// claimed in Redis (SET NX with ttl) and only the replica that claims it
// handles it. Without it every replica handles every message.
func ClaimEvents(group string, ttl time.Duration) ConsumerOption {
	return func(c *Consumer) { c.group, c.claimTTL = group, ttl }
}

// Workers sets how many messages are handled at once (default 64). A
// handler mostly waits for the stores, so many of them cost little, and
// the more wait together, the more of their inserts share one command;
// messages are spread over the workers by order, so with few of them an
// order's message often waits behind another order's.
func Workers(n int) ConsumerOption {
	return func(c *Consumer) {
		if n > 0 {
			c.workers = n
		}
	}
}

// Instrument counts every message by channel and result: handled, failed
// (the sender's redelivery retries), dropped (it can never be handled),
// panicked (its handler did, under Recover; the sender's redelivery
// retries) or elsewhere (another replica of the group claimed it).
func Instrument(messages metrics.Counter) ConsumerOption {
	return func(c *Consumer) { c.messages = messages }
}

// DrainTimeout bounds how long Run, once its context is cancelled, goes on
// handling the messages it had received (default 10s): then the handlers'
// contexts are cancelled, and what they did not finish is left to the
// senders' redelivery.
func DrainTimeout(d time.Duration) ConsumerOption {
	return func(c *Consumer) {
		if d > 0 {
			c.drainTimeout = d
		}
	}
}

// ConsumeTraced makes a span of the handling of each message with tracing,
// continuing the trace of the work that published it.
func ConsumeTraced(tracing *telemetry.Tracing) ConsumerOption {
	return func(c *Consumer) { c.tracer = tracing.Tracer("transport/pubsub") }
}

// PingInterval sets how long a quiet subscription waits before it checks the
// connection with a PING (default 5s): a master that died or was moved is
// noticed within it, and the subscription moved to the one in its place.
func PingInterval(d time.Duration) ConsumerOption {
	return func(c *Consumer) { c.pingInterval = d }
}

// NewConsumer returns a Consumer of the channels that handlers has keys for.
func NewConsumer(client redis.UniversalClient, handlers map[string]Handler, logger log.Logger, opts ...ConsumerOption) *Consumer {
	c := &Consumer{
		client:        client,
		claims:        newPipeline(client),
		handlers:      handlers,
		logger:        logger,
		workers:       64,
		pingInterval:  5 * time.Second,
		handleTimeout: 30 * time.Second,
		drainTimeout:  10 * time.Second,
		messages:      discard.NewCounter(),
		tracer:        (*telemetry.Tracing)(nil).Tracer("transport/pubsub"),
	}
	for _, opt := range opts {
		opt(c)
	}
	// Every series exists from the start, so a rate over it is defined
	// before its first message and an alert on it can fire.
	for channel := range handlers {
		for _, result := range results {
			c.messages.With("channel", channel, "result", result).Add(0)
		}
	}
	return c
}

// results are the values of the result label of Instrument's counter.
var results = []string{"handled", "failed", "dropped", "panicked", "elsewhere"}

// Active reports whether the subscription to every channel is in place.
func (c *Consumer) Active() bool { return c.active.Load() }

// Check is the readiness check of the subscription: it fails while the
// consumer is not subscribed.
func (c *Consumer) Check(context.Context) error {
	if !c.Active() {
		return errors.New("not subscribed")
	}
	return nil
}

// Run subscribes and handles messages until ctx is cancelled. Messages already
// received are handled before it returns, for at most the drain timeout.
func (c *Consumer) Run(ctx context.Context) error {
	channels := make([]string, 0, len(c.handlers))
	for ch := range c.handlers {
		channels = append(channels, ch)
	}
	slices.Sort(channels)

	// One subscription to all, or on a cluster one to each channel: a
	// subscription lives on one node, that of its channels' slot.
	subs := [][]string{channels}
	if Sharded(c.client) {
		subs = subs[:0]
		for _, ch := range channels {
			subs = append(subs, []string{ch})
		}
	}
	defer c.active.Store(false)

	// Handlers run on their own context: one that outlives ctx by the drain
	// timeout, so that what was received is handled, within a bound.
	handling, stopHandling := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHandling()
	queues := make([]chan delivery, c.workers)
	var wg sync.WaitGroup
	for i := range queues {
		q := make(chan delivery, 64)
		queues[i] = q
		wg.Go(func() {
			for d := range q {
				c.handle(handling, d)
			}
		})
	}
	defer func() {
		for _, q := range queues {
			close(q)
		}
		drained := make(chan struct{})
		go func() { wg.Wait(); close(drained) }()
		select {
		case <-drained:
		case <-time.After(c.drainTimeout):
			c.logger.Log("msg", "handlers still busy at the end of the drain; left to the senders' redelivery", "drain_timeout", c.drainTimeout)
			stopHandling()
			<-drained
		}
	}()

	var (
		mu sync.Mutex
		up int // subscriptions in place
	)
	setUp := func(delta int) {
		mu.Lock()
		up += delta
		c.active.Store(up == len(subs))
		mu.Unlock()
	}
	var receivers sync.WaitGroup
	for _, chs := range subs {
		receivers.Go(func() { c.receive(ctx, chs, queues, setUp) })
	}
	receivers.Wait()
	return nil
}

// receive keeps one subscription to channels in place until ctx is
// cancelled, and queues each message it receives; setUp(1) says it is in
// place, setUp(-1) that it was lost.
func (c *Consumer) receive(ctx context.Context, channels []string, queues []chan delivery, setUp func(int)) {
	var ps *redis.PubSub
	kind := "subscribe"
	if Sharded(c.client) {
		ps, kind = c.client.SSubscribe(ctx, channels...), "ssubscribe"
	} else {
		ps = c.client.Subscribe(ctx, channels...)
	}
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer stop()
	active := false
	defer func() {
		if active {
			setUp(-1)
		}
	}()

	backoff := newBackoff(100*time.Millisecond, 2*time.Second)
	for {
		v, err := ps.ReceiveTimeout(ctx, c.pingInterval)
		if ctx.Err() != nil {
			return
		}
		if err != nil && isTimeout(err) {
			// A quiet line: make sure it is still there. A failed PING makes
			// go-redis drop the connection; the next receive reconnects and
			// resubscribes to every channel, on the master or the node that
			// serves them then.
			if err = ps.Ping(ctx); err == nil {
				continue
			}
		}
		if err != nil {
			if active {
				active = false
				setUp(-1)
				c.logger.Log("msg", "subscription lost, reconnecting", "channels", fmtChannels(channels), "err", err)
			}
			if cc, ok := c.client.(*redis.ClusterClient); ok {
				cc.ReloadState(ctx) // the channel's slot may have another master by now
			}
			if !sleep(ctx, backoff.next()) {
				return
			}
			continue
		}
		switch m := v.(type) {
		case *redis.Subscription:
			if m.Kind == kind && m.Count == len(channels) && !active {
				backoff.reset()
				active = true
				setUp(1)
				c.logger.Log("msg", "subscribed", "channels", fmtChannels(channels))
			}
		case *redis.Message:
			d := delivery{msg: m}
			_ = json.Unmarshal([]byte(m.Payload), &d.meta) // a bad payload fails in the handler's decoder
			queues[shard(d.meta.OrderID, len(queues))] <- d
		}
	}
}

// delivery is a received message and its envelope.
type delivery struct {
	msg  *redis.Message
	meta event.Meta
}

func (c *Consumer) handle(base context.Context, d delivery) {
	m, meta := d.msg, d.meta
	ctx, cancel := context.WithTimeout(base, c.handleTimeout)
	defer cancel()
	if meta.CorrelationID != "" {
		ctx = correlation.NewContext(ctx, meta.CorrelationID)
	}
	// The handling continues the trace of the work that published it.
	ctx, span := c.tracer.Start(telemetry.WithTraceParent(ctx, meta.TraceParent), "handle "+m.Channel,
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("messaging.system", "redis"), attribute.String("messaging.destination.name", m.Channel),
			attribute.String("messaging.message.id", meta.EventID), attribute.String("order_id", meta.OrderID)))
	defer span.End()
	logger := log.With(c.logger, append([]any{"channel", m.Channel, "order_id", meta.OrderID, "correlation_id", meta.CorrelationID,
		"event_id", meta.EventID}, telemetry.LogKeys(ctx)...)...)

	if c.group != "" && meta.EventID != "" {
		// SET NX with the claims of the messages other workers take meanwhile.
		claim := redis.NewBoolCmd(ctx, "set", "claim:"+c.group+":"+meta.EventID, 1, "px", max(c.claimTTL.Milliseconds(), 1), "nx")
		err := c.claims.do(ctx, claim)
		ok := claim.Val()
		switch {
		case err != nil:
			// Handling twice is safe, losing the message is not.
			logger.Log("msg", "event claim failed, handling anyway", "err", err)
		case !ok:
			c.count(m.Channel, "elsewhere")
			return // another replica of the group has it
		}
	}

	err := c.handlers[m.Channel].ServeMessage(ctx, []byte(m.Payload))
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	switch {
	case err == nil:
		c.count(m.Channel, "handled")
	case errors.Is(err, ErrUndecodable):
		c.count(m.Channel, "dropped")
		logger.Log("msg", "message dropped: it can never be handled", "err", err)
	case errors.Is(err, ErrPanicked):
		c.count(m.Channel, "panicked")
	default:
		c.count(m.Channel, "failed")
		logger.Log("msg", "message not handled; the sender's redelivery will retry", "err", err)
	}
}

func (c *Consumer) count(channel, result string) {
	c.messages.With("channel", channel, "result", result).Add(1)
}

// shard keeps the messages of one order on one worker, so they are handled in
// the order they arrived.
func shard(orderID string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(orderID))
	return int(h.Sum32() % uint32(n))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func fmtChannels(channels []string) string {
	b, _ := json.Marshal(channels)
	return string(b)
}

// sleep waits for d or until ctx is done; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

type backoff struct{ min, max, cur time.Duration }

func newBackoff(min, max time.Duration) *backoff { return &backoff{min: min, max: max} }

func (b *backoff) reset() { b.cur = 0 }

func (b *backoff) next() time.Duration {
	b.cur = min(max(b.cur*2, b.min), b.max)
	return b.cur
}
