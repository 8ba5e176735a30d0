package platform

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// StartupTimeout bounds how long a service waits for MongoDB and Redis at
// start before it gives up with a clear message.
const StartupTimeout = 10 * time.Second

// ConnectMongo connects to MongoDB and pings it, failing fast with a message
// that names the server (without credentials). Later outages are the
// driver's business: it reconnects by itself. An operation gives up after
// 3 seconds, within the gateway's 5-second wait for ordersvc, so a client
// learns that the store is unavailable (503) rather than that ordersvc was
// slow (504).
func ConnectMongo(ctx context.Context, uri string) (*mongo.Client, error) {
	opts := options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(2 * time.Second).
		SetTimeout(3 * time.Second)
	c, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("mongodb URI %s: %w", Redact(uri), err)
	}
	ctx, cancel := context.WithTimeout(ctx, StartupTimeout)
	defer cancel()
	if err := c.Ping(ctx, nil); err != nil {
		_ = c.Disconnect(context.Background())
		return nil, fmt.Errorf("mongodb unreachable at %s: %w", Redact(uri), err)
	}
	return c, nil
}

// ConnectRedis connects to Redis (a redis:// URL) and pings it, failing fast
// with a message that names the server (without credentials). Later outages
// are the client's business: it reconnects by itself.
func ConnectRedis(ctx context.Context, rawURL string) (*redis.Client, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis URL %s: %w", Redact(rawURL), err)
	}
	opts.DialTimeout = 2 * time.Second
	// Fail fast while Redis is down: callers have their own retries (the
	// redeliverer, the subscriber's reconnect loop), and a client request
	// must not wait for a publish that the redeliverer will redo anyway.
	opts.DialerRetries = 1
	opts.MaxRetries = 1
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(ctx, StartupTimeout)
	defer cancel()
	var pingErr error
	for {
		if pingErr = c.Ping(ctx).Err(); pingErr == nil {
			return c, nil
		}
		select {
		case <-ctx.Done():
			_ = c.Close()
			return nil, fmt.Errorf("redis unreachable at %s: %w", Redact(rawURL), pingErr)
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
