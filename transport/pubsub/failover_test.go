package pubsub_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/redis/go-redis/v9"

	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/transport/pubsub"
)

// channels are the channels of the failover tests: on a cluster, three
// slots, and so, here, three shards.
var channels = []string{"orders.created", "orders.cancelled", "payments.processed"}

// received records the payloads handled, by channel.
type received struct {
	mu sync.Mutex
	by map[string][]string
}

func (r *received) handler(channel string) pubsub.Handler {
	return handlerFunc(func(_ context.Context, payload []byte) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.by[channel] = append(r.by[channel], string(payload))
		return nil
	})
}

func (r *received) has(channel, payload string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.by[channel], payload)
}

type handlerFunc func(context.Context, []byte) error

func (f handlerFunc) ServeMessage(ctx context.Context, payload []byte) error { return f(ctx, payload) }

// consume runs a Consumer of channels on the Redis of url, checking its
// line every 500ms, until the test ends.
func consume(t *testing.T, url string) (*pubsub.Consumer, *received, redis.UniversalClient) {
	t.Helper()
	client, err := pubsub.Connect(context.Background(), pubsub.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	r := &received{by: map[string][]string{}}
	handlers := map[string]pubsub.Handler{}
	for _, ch := range channels {
		handlers[ch] = r.handler(ch)
	}
	c := pubsub.NewConsumer(client, handlers, log.NewNopLogger(), pubsub.PingInterval(500*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	testenv.Eventually(t, 10*time.Second, "the consumer never subscribed", c.Active)
	return c, r, client
}

// flows publishes one message on every channel through pub until each
// reaches r, and fails the test after timeout; it returns how long that
// took.
func flows(t *testing.T, pub *pubsub.Publisher, r *received, timeout time.Duration, tag string) time.Duration {
	t.Helper()
	begin := time.Now()
	for i := 0; ; i++ {
		all := true
		for _, ch := range channels {
			id := fmt.Sprintf("%s-%s-%d", tag, ch, i)
			payload := `{"orderId":"` + id + `"}`
			_, _ = pub.Publish(context.Background(), ch, map[string]string{"orderId": id})
			ok := false
			for deadline := time.Now().Add(200 * time.Millisecond); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if ok = r.has(ch, payload); ok {
					break
				}
			}
			all = all && ok
		}
		if all {
			return time.Since(begin)
		}
		if time.Since(begin) > timeout {
			t.Fatalf("%s: messages did not reach the consumer on every channel within %v", tag, timeout)
		}
	}
}

func TestAConsumerFollowsTheMasterTheSentinelsPromote(t *testing.T) {
	s := testenv.RedisSentinel(t)
	c, r, client := consume(t, s.URL)
	pub := pubsub.NewPublisher(client)
	flows(t, pub, r, 10*time.Second, "before")

	s.Master.Kill()
	killed := time.Now()
	took := flows(t, pub, r, 30*time.Second, "after")
	t.Logf("messages flowed again %v after the master was killed", took.Round(100*time.Millisecond))

	// The subscriber is on the new master, and counted there.
	promoted := redis.NewClient(&redis.Options{Addr: s.Replica.Addr})
	defer promoted.Close()
	testenv.Eventually(t, 10*time.Second, "the promoted replica does not count the subscriber on every channel", func() bool {
		role, err := promoted.Do(context.Background(), "ROLE").Slice()
		if err != nil || len(role) == 0 || role[0] != "master" {
			return false
		}
		n, err := promoted.PubSubNumSub(context.Background(), channels...).Result()
		return err == nil && n[channels[0]] == 1 && n[channels[1]] == 1 && n[channels[2]] == 1
	})
	if !c.Active() {
		t.Error("the consumer says it is not subscribed")
	}
	t.Logf("recovered within %v of the kill", time.Since(killed).Round(100*time.Millisecond))
}

func TestAConsumerOfAClusterSubscribesEachChannelOnItsShardAndFollowsAFailover(t *testing.T) {
	cl := testenv.RedisCluster(t)
	_, r, client := consume(t, cl.URL)
	pub := pubsub.NewPublisher(client)
	flows(t, pub, r, 10*time.Second, "before")

	// Each channel's subscriber is counted by the master of its slot:
	// sharded pub/sub, not PUBLISH to every node.
	cc := client.(*redis.ClusterClient)
	shardCounts := func() (map[string]int64, error) {
		counts := map[string]int64{}
		for _, ch := range channels {
			master, err := cc.MasterForKey(context.Background(), ch)
			if err != nil {
				return nil, err
			}
			n, err := master.PubSubShardNumSub(context.Background(), ch).Result()
			if err != nil {
				return nil, err
			}
			counts[ch] = n[ch]
		}
		return counts, nil
	}
	if n, err := shardCounts(); err != nil || n[channels[0]] != 1 || n[channels[1]] != 1 || n[channels[2]] != 1 {
		t.Fatalf("want one sharded subscriber of each channel on its master, have %v (%v)", n, err)
	}

	// Kill the master of the first channel's slot.
	victim := cl.MasterOf(t, channels[0])
	victim.Kill()
	took := flows(t, pub, r, 30*time.Second, "after")
	t.Logf("messages flowed again %v after the master of %s was killed", took.Round(100*time.Millisecond), channels[0])
	testenv.Eventually(t, 10*time.Second, "the new masters do not count a subscriber of every channel", func() bool {
		cc.ReloadState(context.Background())
		n, err := shardCounts()
		return err == nil && n[channels[0]] == 1 && n[channels[1]] == 1 && n[channels[2]] == 1
	})
	if m, err := cc.MasterForKey(context.Background(), channels[0]); err != nil || m.Options().Addr == victim.Addr {
		t.Errorf("the killed node still masters the slot of %s (%v)", channels[0], err)
	}
}
