package mongostore

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/orderflow/orderflow/internal/startup"
)

// Config is where a service keeps its data and who it is there.
type Config struct {
	URI      string
	Database string
	Username string
	Password string
}

// RegisterFlags defines the mongo.* flags of c on fs, database defaulting
// to db.
func (c *Config) RegisterFlags(fs *flag.FlagSet, db string) {
	fs.StringVar(&c.URI, "mongo.uri", "mongodb://127.0.0.1:27017", "MongoDB URI")
	fs.StringVar(&c.Database, "mongo.database", db, "MongoDB database (on FerretDB, the prefix of one database per collection: <database>_<collection>)")
	fs.StringVar(&c.Username, "mongo.username", "", "MongoDB user, authenticated against -mongo.database unless the URI names an authSource (empty: the URI's credentials, if any)")
	fs.StringVar(&c.Password, "mongo.password", "", "password of -mongo.username")
}

// clientOptions are the driver's options for c. Credentials given apart
// from the URI need no escaping and can come from a secret store as they are.
func (c Config) clientOptions() *options.ClientOptions {
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

// Connect connects to MongoDB and pings it until it answers or
// startup.Timeout passes (a MongoDB may be starting too), then fails with a
// message that names the server (without credentials). Later outages are
// the driver's business: it reconnects by itself. An operation gives up
// after 3 seconds, within the gateway's 5-second wait for ordersvc, so a
// client learns that the store is unavailable (503) rather than that
// ordersvc was slow (504).
func Connect(ctx context.Context, cfg Config) (*mongo.Client, error) {
	copts := cfg.clientOptions().
		SetServerSelectionTimeout(2 * time.Second).
		SetTimeout(3 * time.Second)
	c, err := mongo.Connect(copts)
	if err != nil {
		return nil, fmt.Errorf("mongodb URI %s: %w", startup.Redact(cfg.URI), err)
	}
	ping := func(ctx context.Context) error { return c.Ping(ctx, nil) }
	if err := startup.Await(ctx, startup.Timeout, ping, func(error) bool { return false }); err != nil {
		_ = c.Disconnect(context.Background())
		return nil, fmt.Errorf("mongodb unreachable at %s: %w", startup.Redact(cfg.URI), err)
	}
	return c, nil
}

// Check returns the readiness check of c: MongoDB answers a ping.
func Check(c *mongo.Client) func(context.Context) error {
	return func(ctx context.Context) error { return c.Ping(ctx, nil) }
}
