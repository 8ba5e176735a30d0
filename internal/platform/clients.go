package platform

import (
	"context"
	"errors"
	"flag"
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

// MongoConfig is where a service keeps its data and who it is there.
type MongoConfig struct {
	URI      string
	Database string
	Username string
	Password string
}

// RegisterFlags defines the mongo.* flags of c on fs, database defaulting
// to db.
func (c *MongoConfig) RegisterFlags(fs *flag.FlagSet, db string) {
	fs.StringVar(&c.URI, "mongo.uri", "mongodb://127.0.0.1:27017", "MongoDB URI")
	fs.StringVar(&c.Database, "mongo.database", db, "MongoDB database")
	fs.StringVar(&c.Username, "mongo.username", "", "MongoDB user, authenticated against -mongo.database unless the URI names an authSource (empty: the URI's credentials, if any)")
	fs.StringVar(&c.Password, "mongo.password", "", "password of -mongo.username")
}

// clientOptions are the driver's options for c. Credentials given apart
// from the URI need no escaping and can come from a secret store as they are.
func (c MongoConfig) clientOptions() *options.ClientOptions {
	opts := options.Client().ApplyURI(c.URI)
	if c.Username != "" {
		cred := options.Credential{Username: c.Username, Password: c.Password, AuthSource: c.Database}
		if u, err := url.Parse(c.URI); err == nil && u.Query().Get("authSource") != "" {
			cred.AuthSource = u.Query().Get("authSource")
		}
		opts.SetAuth(cred)
	}
	return opts
}

// RedisConfig is the Redis a service publishes and subscribes through.
type RedisConfig struct {
	URL      string
	Password string
}

// RegisterFlags defines the redis.* flags of c on fs.
func (c *RedisConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.URL, "redis.url", "redis://127.0.0.1:6379/0", "Redis URL (redis://[:password@]host:port/db)")
	fs.StringVar(&c.Password, "redis.password", "", "Redis password, instead of the URL's")
}

// ConnectMongo connects to MongoDB and pings it until it answers or the
// startup timeout passes (a MongoDB may be starting too), then fails with a
// message that names the server (without credentials). Later outages are
// the driver's business: it reconnects by itself. An operation gives up
// after 3 seconds, within the gateway's 5-second wait for ordersvc, so a
// client learns that the store is unavailable (503) rather than that
// ordersvc was slow (504).
func ConnectMongo(ctx context.Context, cfg MongoConfig) (*mongo.Client, error) {
	opts := cfg.clientOptions().
		SetServerSelectionTimeout(2 * time.Second).
		SetTimeout(3 * time.Second)
	c, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("mongodb URI %s: %w", Redact(cfg.URI), err)
	}
	ping := func(ctx context.Context) error { return c.Ping(ctx, nil) }
	if err := awaitStartup(ctx, ping, func(error) bool { return false }); err != nil {
		_ = c.Disconnect(context.Background())
		return nil, fmt.Errorf("mongodb unreachable at %s: %w", Redact(cfg.URI), err)
	}
	return c, nil
}

// ConnectRedis connects to Redis (a redis:// URL) and pings it until it
// answers or the startup timeout passes, then fails with a message that
// names the server (without credentials); an answer such as a wrong
// password fails at once. Later outages are the client's business: it
// reconnects by itself.
func ConnectRedis(ctx context.Context, cfg RedisConfig) (*redis.Client, error) {
	opts, err := redis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("redis URL %s: %w", Redact(cfg.URL), err)
	}
	if cfg.Password != "" {
		opts.Password = cfg.Password
	}
	opts.DialTimeout = 2 * time.Second
	// Fail fast while Redis is down: callers have their own retries (the
	// redeliverer, the subscriber's reconnect loop), and a client request
	// must not wait for a publish that the redeliverer will redo anyway.
	opts.DialerRetries = 1
	opts.MaxRetries = 1
	c := redis.NewClient(opts)
	var answer redis.Error
	isAnswer := func(err error) bool { return errors.As(err, &answer) }
	err = awaitStartup(ctx, func(ctx context.Context) error { return c.Ping(ctx).Err() }, isAnswer)
	switch {
	case err == nil:
		return c, nil
	case isAnswer(err):
		_ = c.Close()
		return nil, fmt.Errorf("redis at %s: %w", Redact(cfg.URL), err)
	default:
		_ = c.Close()
		return nil, fmt.Errorf("redis unreachable at %s: %w", Redact(cfg.URL), err)
	}
}

// awaitStartup calls ping until it succeeds, fails with an error that will
// not change (final), or the startup timeout passes. It returns the last
// error the server gave rather than the deadline's.
func awaitStartup(ctx context.Context, ping func(context.Context) error, final func(error) bool) error {
	ctx, cancel := context.WithTimeout(ctx, StartupTimeout)
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
