package flowevents_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/flowsvc/flowevents"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/transport/pubsub"
)

func TestReceiversCountTheSubscribersOfEachChannel(t *testing.T) {
	server := testenv.Redis(t)
	client := testenv.RedisClient(t, server)
	r := flowevents.NewReceivers(client, flowevents.Channels, 20*time.Millisecond, log.NewNopLogger())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	testenv.Eventually(t, 5*time.Second, "the counts never came", func() bool {
		c := r.Counts()
		return c != nil && c["orders.created"] == 0 && len(c) == len(flowevents.Channels)
	})
	for range 2 {
		sub := testenv.RedisClient(t, server).Subscribe(context.Background(), "orders.created")
		if _, err := sub.Receive(context.Background()); err != nil { // the subscription's confirmation
			t.Fatal(err)
		}
		defer sub.Close()
	}
	testenv.Eventually(t, 5*time.Second, "the two subscribers were never counted", func() bool {
		c := r.Counts()
		return c["orders.created"] == 2 && c["payments.processed"] == 0
	})

	server.Kill()
	testenv.Eventually(t, 5*time.Second, "the counts stayed known with Redis gone", func() bool {
		return r.Counts() == nil
	})
}

// On a cluster the subscribers are sharded, each on the master of its
// channel's slot: that is where they are counted.
func TestReceiversCountTheShardedSubscribersOfACluster(t *testing.T) {
	cl := testenv.RedisCluster(t)
	client, err := pubsub.Connect(context.Background(), pubsub.Config{URL: cl.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	r := flowevents.NewReceivers(client, flowevents.Channels, 20*time.Millisecond, log.NewNopLogger())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() { cancel(); <-done }()

	for _, ch := range []string{"orders.created", "payments.processed"} {
		sub := client.SSubscribe(context.Background(), ch)
		if _, err := sub.Receive(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
	}
	testenv.Eventually(t, 10*time.Second, "the sharded subscribers were never counted", func() bool {
		c := r.Counts()
		return c["orders.created"] == 1 && c["payments.processed"] == 1 && c["orders.cancelled"] == 0
	})
}
