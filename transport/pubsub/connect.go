package pubsub

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/kit/metrics"
	"github.com/go-kit/log"
	"github.com/redis/go-redis/v9"

	"github.com/orderflow/orderflow/internal/startup"
)

// Config is the Redis a service publishes and subscribes through. The
// scheme of its URL says which of three shapes it is:
//
//	redis://[[user]:password@]host:port[/db]                      one server
//	redis+sentinel://[[user]:password@]host:port,.../master[/db]  the master that these Sentinels name
//	redis+cluster://[[user]:password@]host:port,...                a Redis Cluster, found from any of these nodes
//
// and rediss://, rediss+sentinel:// and rediss+cluster:// are the same over
// TLS. A Sentinel's port defaults to 26379, any other to 6379.
type Config struct {
	URL string
	// Password is the servers' password, instead of the URL's (which then
	// needs no escaping).
	Password string
	// SentinelPassword is the Sentinels' own password, when they have one
	// (requirepass in sentinel.conf).
	SentinelPassword string
	// TLSCAFile is a PEM file of the authorities a TLS server's certificate
	// may be signed by, instead of the system's.
	TLSCAFile string
}

// RegisterFlags defines the redis.* flags of c on fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.URL, "redis.url", "redis://127.0.0.1:6379/0", "Redis: redis://[:password@]host:port/db, redis+sentinel://host:port,.../master[/db] or redis+cluster://host:port,... (rediss... for TLS)")
	fs.StringVar(&c.Password, "redis.password", "", "Redis password, instead of the URL's")
	fs.StringVar(&c.SentinelPassword, "redis.sentinel.password", "", "password of the Sentinels themselves, when they have one")
	fs.StringVar(&c.TLSCAFile, "redis.tls.ca", "", "PEM file of the certificate authorities a Redis server over TLS may be signed by (default: the system's)")
}

// Validate reports a URL that names no Redis, naming the flag.
func (c Config) Validate() error {
	if _, err := c.Target(); err != nil {
		return fmt.Errorf("-redis.url: %w", err)
	}
	return nil
}

// Shape is how a Redis is deployed.
type Shape string

// Shapes.
const (
	Standalone Shape = "standalone"
	Sentinel   Shape = "sentinel"
	Cluster    Shape = "cluster"
)

// Target is what a Config names: the shape, the servers to ask (the
// Sentinels of a master, or the seed nodes of a cluster), and how.
type Target struct {
	Shape  Shape
	Addrs  []string
	Master string // the master's name, for Sentinel
	DB     int
	TLS    bool
	// Username and Password are the servers' credentials.
	Username, Password string
}

// Target parses the URL of c. Its errors never hold the password.
func (c Config) Target() (Target, error) {
	scheme, rest, ok := strings.Cut(c.URL, "://")
	if !ok {
		return Target{}, fmt.Errorf("redis URL %s: no scheme (redis://, redis+sentinel:// or redis+cluster://)", startup.Redact(c.URL))
	}
	t := Target{TLS: strings.HasPrefix(scheme, "rediss")}
	switch scheme {
	case "redis", "rediss":
		t.Shape = Standalone
		opts, err := redis.ParseURL(c.URL)
		if err != nil {
			return Target{}, fmt.Errorf("redis URL %s: %w", startup.Redact(c.URL), redactErr(err, c.URL))
		}
		t.Addrs, t.DB, t.Username, t.Password = []string{opts.Addr}, opts.DB, opts.Username, opts.Password
		if err := refuseSetByConnect(c.URL); err != nil {
			return Target{}, fmt.Errorf("redis URL %s: %w", startup.Redact(c.URL), err)
		}
	case "redis+sentinel", "rediss+sentinel":
		t.Shape = Sentinel
	case "redis+cluster", "rediss+cluster":
		t.Shape = Cluster
	default:
		return Target{}, fmt.Errorf("redis URL %s: scheme %q is none of redis, rediss, redis+sentinel, rediss+sentinel, redis+cluster, rediss+cluster", startup.Redact(c.URL), scheme)
	}
	if t.Shape != Standalone {
		if err := t.parseNodes(rest); err != nil {
			return Target{}, fmt.Errorf("redis URL %s: %w", startup.Redact(c.URL), err)
		}
	}
	if c.Password != "" {
		t.Password = c.Password
	}
	return t, nil
}

// How Connect connects, whatever a URL says.
const (
	// Fail fast while Redis is down: callers have their own retries (the
	// redeliverer, the subscriber's reconnect loop), and a client request
	// must not wait for a publish that the redeliverer will redo anyway.
	dialTimeout, retries = 2 * time.Second, 1
	// RESP2: the services use none of RESP3's push notifications (client
	// side caching, maintenance notices), and go-redis looks for them
	// around every command and message of a RESP3 connection.
	protocol = 2
)

// setByConnect are the options of a one-server URL that Connect sets
// itself, and why.
var setByConnect = []struct{ name, why string }{
	{"protocol", fmt.Sprintf("they speak RESP%d", protocol)},
	{"dial_timeout", fmt.Sprintf("they wait %v for a connection", dialTimeout)},
	{"max_retries", fmt.Sprintf("they set %d: callers retry for themselves", retries)},
	{"skip_verify", "they check a TLS server's certificate, against -redis.tls.ca's authorities if it is set"},
}

// refuseSetByConnect fails on a URL that sets an option of setByConnect,
// which Connect would ignore.
func refuseSetByConnect(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return errors.New("not a URL")
	}
	q := u.Query()
	for _, o := range setByConnect {
		if q.Has(o.name) {
			return fmt.Errorf("option %s is the services' own (%s): remove it", o.name, o.why)
		}
	}
	return nil
}

// parseNodes reads "[[user]:password@]host:port,...[/path]" of a Sentinel
// or cluster URL into t.
func (t *Target) parseNodes(rest string) error {
	if strings.ContainsAny(rest, "?#") {
		return errors.New("takes no query or fragment")
	}
	hosts, path, _ := strings.Cut(rest, "/")
	if at := strings.LastIndex(hosts, "@"); at >= 0 {
		user, password, _ := strings.Cut(hosts[:at], ":")
		var err1, err2 error
		t.Username, err1 = url.PathUnescape(user)
		t.Password, err2 = url.PathUnescape(password)
		if err1 != nil || err2 != nil {
			return errors.New("user or password is not URL-escaped (or give the password apart: -redis.password)")
		}
		hosts = hosts[at+1:]
	}
	port := "6379"
	if t.Shape == Sentinel {
		port = "26379"
	}
	for _, h := range strings.Split(hosts, ",") {
		if h == "" {
			return errors.New("an empty host in the list")
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(h, port)
		}
		host, p, err := net.SplitHostPort(h)
		if n, perr := strconv.Atoi(p); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			return fmt.Errorf("host %q is not host:port", h)
		}
		t.Addrs = append(t.Addrs, h)
	}
	parts := strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
	switch {
	case t.Shape == Sentinel && len(parts) == 0:
		return errors.New("no master name: redis+sentinel://host:port,.../master[/db]")
	case t.Shape == Sentinel:
		t.Master = parts[0]
		parts = parts[1:]
	}
	switch {
	case len(parts) > 1:
		return fmt.Errorf("path %q has more than a database number", path)
	case len(parts) == 1:
		db, err := strconv.Atoi(parts[0])
		if err != nil || db < 0 {
			return fmt.Errorf("database %q is not a number", parts[0])
		}
		if t.Shape == Cluster && db != 0 {
			return errors.New("a cluster has database 0 only")
		}
		t.DB = db
	}
	return nil
}

// redactErr is err without the password of rawURL, which go-redis's
// messages may quote.
func redactErr(err error, rawURL string) error {
	u, perr := url.Parse(rawURL)
	if perr != nil || u.User == nil {
		return err
	}
	if p, ok := u.User.Password(); ok && p != "" && strings.Contains(err.Error(), p) {
		return errors.New(strings.ReplaceAll(err.Error(), p, "xxxxx"))
	}
	return err
}

// RouteLogs sends what go-redis reports of its connections' trouble to
// logger, as logfmt, one line of each five seconds. go-redis has one logger
// per process: a main calls this, once, before anything connects.
func RouteLogs(logger log.Logger) {
	redis.SetLogger(&redisLogger{logger: log.With(logger, "component", "go-redis"), every: 5 * time.Second})
}

// Connect connects to the Redis of cfg in its shape and pings it until it
// answers or startup.Timeout passes, then fails with a message that names
// the server (without credentials); an answer such as a wrong password
// fails at once. Later outages are the client's business: it reconnects by
// itself (to the master the Sentinels name then, or to the cluster's nodes
// as they are then), and reports its trouble where RouteLogs sent it.
func Connect(ctx context.Context, cfg Config, opts ...ConnectOption) (redis.UniversalClient, error) {
	t, err := cfg.Target()
	if err != nil {
		return nil, err
	}
	var tlsConfig *tls.Config
	if t.TLS {
		if tlsConfig, err = newTLSConfig(cfg.TLSCAFile); err != nil {
			return nil, err
		}
	}
	var c redis.UniversalClient
	switch t.Shape {
	case Standalone:
		ropts, _ := redis.ParseURL(cfg.URL) // parsed by Target
		ropts.Password = t.Password
		ropts.DialTimeout, ropts.DialerRetries, ropts.MaxRetries, ropts.Protocol = dialTimeout, 1, retries, protocol
		if tlsConfig != nil {
			tlsConfig.ServerName = ropts.TLSConfig.ServerName
			ropts.TLSConfig = tlsConfig
		}
		c = redis.NewClient(ropts)
	case Sentinel:
		c = redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: t.Master, SentinelAddrs: t.Addrs, DB: t.DB,
			Username: t.Username, Password: t.Password, SentinelPassword: cfg.SentinelPassword,
			TLSConfig: tlsConfig, DialTimeout: dialTimeout, DialerRetries: 1, MaxRetries: retries, Protocol: protocol,
		})
	case Cluster:
		c = redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: t.Addrs, Username: t.Username, Password: t.Password,
			TLSConfig: tlsConfig, DialTimeout: dialTimeout, DialerRetries: 1, MaxRetries: retries, Protocol: protocol,
			// Which node serves which slot is asked again once the map is
			// this old (go-redis's default: a minute), so that a failover
			// is followed within seconds: a command that fails on a dead
			// master is not retried elsewhere, and so never learns of it.
			ClusterStateReloadInterval: clusterMapAge,
		})
	}
	for _, opt := range opts {
		opt(c)
	}
	var answer redis.Error
	isAnswer := func(err error) bool { return errors.As(err, &answer) }
	err = startup.Await(ctx, startup.Timeout, func(ctx context.Context) error { return c.Ping(ctx).Err() }, isAnswer)
	switch {
	case err == nil:
		return c, nil
	case isAnswer(err):
		_ = c.Close()
		return nil, fmt.Errorf("redis at %s: %w", startup.Redact(cfg.URL), err)
	default:
		_ = c.Close()
		return nil, fmt.Errorf("redis unreachable at %s: %w", startup.Redact(cfg.URL), err)
	}
}

// clusterMapAge is how old a cluster client's map of slots to nodes may
// grow before it is read again.
const clusterMapAge = 2 * time.Second

// newTLSConfig is the TLS of a connection to Redis: the system's
// authorities, or those of caFile.
func newTLSConfig(caFile string) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return c, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("-redis.tls.ca: %w", err)
	}
	c.RootCAs = x509.NewCertPool()
	if !c.RootCAs.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("-redis.tls.ca: %s holds no PEM certificate", caFile)
	}
	return c, nil
}

// Sharded reports whether c is a cluster's: there a message is published
// and subscribed to with SPUBLISH and SSUBSCRIBE, so that it reaches the
// shard of its channel only, where PUBLISH goes to every node.
func Sharded(c redis.UniversalClient) bool {
	_, ok := c.(*redis.ClusterClient)
	return ok
}

// ConnectOption sets an optional parameter of Connect's client.
type ConnectOption func(redis.UniversalClient)

// CountCommands counts every command the client sends, by name, in
// commands (a pipeline's each), PINGs aside: what make bench divides by the
// orders it settled.
func CountCommands(commands metrics.Counter) ConnectOption {
	return func(c redis.UniversalClient) { c.AddHook(commandCounter{commands}) }
}

type commandCounter struct{ commands metrics.Counter }

func (commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.count(cmd)
		return next(ctx, cmd)
	}
}

func (h commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			h.count(cmd)
		}
		return next(ctx, cmds)
	}
}

func (h commandCounter) count(cmd redis.Cmder) {
	if name := cmd.Name(); name != "ping" {
		h.commands.With("command", name).Add(1)
	}
}

// Check returns the readiness check of c: Redis answers a ping.
func Check(c redis.UniversalClient) func(context.Context) error {
	return func(ctx context.Context) error { return c.Ping(ctx).Err() }
}

// redisLogger adapts a go-kit logger to go-redis's logging interface. While
// Redis is away, go-redis says so several times a second: it logs one line
// of each period every, and with it how many it left out.
type redisLogger struct {
	logger  log.Logger
	every   time.Duration
	mu      sync.Mutex
	last    time.Time
	skipped int
}

func (l *redisLogger) Printf(_ context.Context, format string, v ...any) {
	l.mu.Lock()
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		l.skipped++
		l.mu.Unlock()
		return
	}
	skipped := l.skipped
	l.last, l.skipped = now, 0
	l.mu.Unlock()
	kv := []any{"msg", fmt.Sprintf(format, v...)}
	if skipped > 0 {
		kv = append(kv, "left_out", skipped)
	}
	l.logger.Log(kv...)
}
