package pubsub_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/redis/go-redis/v9"

	"github.com/orderflow/orderflow/internal/correlation"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/transport/event"
	"github.com/orderflow/orderflow/transport/pubsub"
)

// counter is a Handler that records the order ids it handled, in order.
type counter struct {
	mu   sync.Mutex
	seen []string
}

func (c *counter) ServeMessage(_ context.Context, payload []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, string(payload))
	return nil
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

func runConsumer(t *testing.T, client *redis.Client, h pubsub.Handler, opts ...pubsub.ConsumerOption) *pubsub.Consumer {
	c := pubsub.NewConsumer(client, map[string]pubsub.Handler{"test.channel": h}, log.NewNopLogger(), opts...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	testenv.Eventually(t, 5*time.Second, "the consumer never subscribed", c.Active)
	return c
}

func TestReplicasOfAGroupHandleEachEventOnce(t *testing.T) {
	redisServer := testenv.Redis(t)
	a, b := &counter{}, &counter{}
	runConsumer(t, testenv.RedisClient(t, redisServer), a, pubsub.ClaimEvents("g", time.Minute))
	runConsumer(t, testenv.RedisClient(t, redisServer), b, pubsub.ClaimEvents("g", time.Minute))

	pub := pubsub.NewPublisher(testenv.RedisClient(t, redisServer))
	const n = 50
	for i := range n {
		msg := event.OrderCreated{Meta: event.NewMeta(event.TypeOrderCreated, "order", "c")}
		if receivers, err := pub.Publish(context.Background(), "test.channel", msg); err != nil || receivers != 2 {
			t.Fatalf("publish %d: want 2 receivers, have %d (%v)", i, receivers, err)
		}
	}
	testenv.Eventually(t, 5*time.Second, "not every event was handled", func() bool { return a.count()+b.count() >= n })
	if total := a.count() + b.count(); total != n {
		t.Errorf("want %d events handled once each, have %d handlings", n, total)
	}
	if a.count() == 0 || b.count() == 0 {
		t.Logf("one replica took every event (%d and %d): allowed, though unlikely", a.count(), b.count())
	}
}

func TestMessagesOfOneOrderAreHandledInArrivalOrder(t *testing.T) {
	redisServer := testenv.Redis(t)
	h := &counter{}
	runConsumer(t, testenv.RedisClient(t, redisServer), h, pubsub.Workers(4))
	client := testenv.RedisClient(t, redisServer)
	var want []string
	for i := range 100 {
		payload := `{"orderId":"o1","n":` + strconv.Itoa(i) + `}`
		want = append(want, payload)
		if err := client.Publish(context.Background(), "test.channel", payload).Err(); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 5*time.Second, "not every message was handled", func() bool { return h.count() == len(want) })
	for i := range want {
		if h.seen[i] != want[i] {
			t.Fatalf("message %d: want %s, have %s", i, want[i], h.seen[i])
		}
	}
}

func TestTheConsumerResubscribesAfterRedisRestarts(t *testing.T) {
	redisServer := testenv.Redis(t)
	h := &counter{}
	c := runConsumer(t, testenv.RedisClient(t, redisServer), h, pubsub.PingInterval(100*time.Millisecond))
	redisServer.Kill()
	testenv.Eventually(t, 5*time.Second, "the consumer still reports a subscription", func() bool { return !c.Active() })
	if err := redisServer.Restart(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "the consumer never resubscribed", c.Active)
	if err := testenv.RedisClient(t, redisServer).Publish(context.Background(), "test.channel", `{"orderId":"o1"}`).Err(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 5*time.Second, "a message after the restart was not handled", func() bool { return h.count() == 1 })
}

// blocking is a Handler that holds every message until its context is
// done, and counts those it was asked to handle.
type blocking struct{ started, ended atomic.Int32 }

func (b *blocking) ServeMessage(ctx context.Context, _ []byte) error {
	b.started.Add(1)
	<-ctx.Done()
	b.ended.Add(1)
	return ctx.Err()
}

func TestAtShutdownTheHandlersGetTheDrainTimeoutAndNoMore(t *testing.T) {
	redisServer := testenv.Redis(t)
	h := &blocking{}
	c := pubsub.NewConsumer(testenv.RedisClient(t, redisServer), map[string]pubsub.Handler{"test.channel": h}, log.NewNopLogger(),
		pubsub.DrainTimeout(300*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	testenv.Eventually(t, 5*time.Second, "the consumer never subscribed", c.Active)
	if err := testenv.RedisClient(t, redisServer).Publish(context.Background(), "test.channel", `{"orderId":"o1"}`).Err(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 5*time.Second, "the message was never handed over", func() bool { return h.started.Load() == 1 })
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within the drain timeout of a stuck handler")
	}
	if h.ended.Load() != 1 {
		t.Errorf("want the stuck handler's context cancelled, have %d ended", h.ended.Load())
	}
}

func TestAHandledMessageCarriesItsCorrelationIDInTheContext(t *testing.T) {
	redisServer := testenv.Redis(t)
	seen := make(chan string, 1)
	h := pubsub.HandlerFunc(func(ctx context.Context, _ []byte) error {
		seen <- correlation.FromContext(ctx)
		return nil
	})
	runConsumer(t, testenv.RedisClient(t, redisServer), h)
	msg := event.OrderCreated{Meta: event.NewMeta(event.TypeOrderCreated, "6b06df22a1b2c3d4e5f60718", "req-7")}
	if _, err := pubsub.NewPublisher(testenv.RedisClient(t, redisServer)).Publish(context.Background(), "test.channel", msg); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-seen:
		if id != "req-7" {
			t.Errorf("want correlation id req-7, have %q", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the message was never handled")
	}
}
