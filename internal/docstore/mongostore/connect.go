package mongostore

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"time"

	"github.com/go-kit/kit/metrics"
	"go.mongodb.org/mongo-driver/v2/event"
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
func Connect(ctx context.Context, cfg Config, opts ...Option) (*mongo.Client, error) {
	var o connectOptions
	for _, opt := range opts {
		opt(&o)
	}
	copts := cfg.clientOptions().
		SetServerSelectionTimeout(2 * time.Second).
		SetTimeout(3 * time.Second)
	if o.commands != nil {
		copts.SetMonitor(countCommands(o.commands, o.documents))
	}
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

// Option sets an optional parameter of Connect.
type Option func(*connectOptions)

type connectOptions struct {
	commands, documents metrics.Counter
}

// CountCommands counts every command the client sends, by command and
// collection, in commands, and the documents they carry (inserted,
// deleted, or 1 for any other command) in documents: what make bench
// divides by the orders it settled.
func CountCommands(commands, documents metrics.Counter) Option {
	return func(o *connectOptions) { o.commands, o.documents = commands, documents }
}

// countCommands is the driver's monitor that counts commands.
func countCommands(commands, documents metrics.Counter) *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		switch e.CommandName {
		case "hello", "isMaster", "ismaster", "ping", "saslStart", "saslContinue", "endSessions", "buildInfo", "getMore", "killCursors":
			return // the driver's own, not the services'
		}
		collection, _ := e.Command.Index(0).Value().StringValueOK()
		docs := 1
		for field, name := range map[string]string{"insert": "documents", "delete": "deletes", "update": "updates"} {
			if e.CommandName == field {
				if arr, ok := e.Command.Lookup(name).ArrayOK(); ok {
					if vals, err := arr.Values(); err == nil {
						docs = len(vals)
					}
				}
			}
		}
		lvs := []string{"command", e.CommandName, "collection", collection}
		commands.With(lvs...).Add(1)
		documents.With(lvs...).Add(float64(docs))
	}}
}

// Check returns the readiness check of c: MongoDB answers a ping.
func Check(c *mongo.Client) func(context.Context) error {
	return func(ctx context.Context) error { return c.Ping(ctx, nil) }
}
