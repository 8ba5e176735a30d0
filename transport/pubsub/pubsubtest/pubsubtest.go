// Package pubsubtest checks what a publisher puts on the wire: the JSON a
// subscriber receives, and the envelope every event carries.
package pubsubtest

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/orderflow/orderflow/transport/pubsub"
)

// Received publishes with publish on an in-process Redis and returns the
// JSON a subscriber of channel received.
func Received(t *testing.T, channel string, publish func(context.Context, *pubsub.Publisher) error) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client := redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()})
	defer client.Close()
	sub := client.Subscribe(ctx, channel)
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription is in place
		t.Fatal(err)
	}
	if err := publish(ctx, pubsub.NewPublisher(client)); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.ReceiveMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var have map[string]any
	if err := json.Unmarshal([]byte(msg.Payload), &have); err != nil {
		t.Fatal(err)
	}
	return have
}

// CheckEnvelope checks the fields of the envelope every event carries, and
// removes them from have, leaving the event's own.
func CheckEnvelope(t *testing.T, have map[string]any, typ, orderID, correlationID string) {
	t.Helper()
	if have["type"] != typ || have["orderId"] != orderID || have["correlationId"] != correlationID {
		t.Errorf("want a %s about order %s with correlation id %s, have %v", typ, orderID, correlationID, have)
	}
	if id, _ := have["eventId"].(string); !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Errorf("want a 128-bit hex eventId, have %v", have["eventId"])
	}
	if at, _ := have["occurredAt"].(string); at == "" {
		t.Errorf("want occurredAt, have %v", have["occurredAt"])
	} else if _, err := time.Parse(time.RFC3339Nano, at); err != nil {
		t.Errorf("occurredAt: %v", err)
	}
	for _, k := range []string{"type", "eventId", "orderId", "correlationId", "occurredAt"} {
		delete(have, k)
	}
}

// Channels returns the channels handlers has handlers of, in order.
func Channels(handlers map[string]pubsub.Handler) []string {
	var channels []string
	for ch := range handlers {
		channels = append(channels, ch)
	}
	slices.Sort(channels)
	return channels
}

// EqualJSON reports whether a and b are the same JSON.
func EqualJSON(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
