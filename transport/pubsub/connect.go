package pubsub

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sync"
	"time"

	"github.com/go-kit/kit/metrics"
	"github.com/go-kit/log"
	"github.com/redis/go-redis/v9"

	"github.com/orderflow/orderflow/internal/startup"
)

// Config is the Redis a service publishes and subscribes through.
type Config struct {
	URL      string
	Password string
}

// RegisterFlags defines the redis.* flags of c on fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.URL, "redis.url", "redis://127.0.0.1:6379/0", "Redis URL (redis://[:password@]host:port/db)")
	fs.StringVar(&c.Password, "redis.password", "", "Redis password, instead of the URL's")
}

// RouteLogs sends what go-redis reports of its connections' trouble to
// logger, as logfmt, one line of each five seconds. go-redis has one logger
// per process: a main calls this, once, before anything connects.
func RouteLogs(logger log.Logger) {
	redis.SetLogger(&redisLogger{logger: log.With(logger, "component", "go-redis"), every: 5 * time.Second})
}

// Connect connects to Redis (a redis:// URL) and pings it until it answers
// or startup.Timeout passes, then fails with a message that names the
// server (without credentials); an answer such as a wrong password fails at
// once. Later outages are the client's business: it reconnects by itself,
// and reports its trouble where RouteLogs sent it.
func Connect(ctx context.Context, cfg Config, opts ...ConnectOption) (*redis.Client, error) {
	ropts, err := redis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("redis URL %s: %w", startup.Redact(cfg.URL), err)
	}
	if cfg.Password != "" {
		ropts.Password = cfg.Password
	}
	ropts.DialTimeout = 2 * time.Second
	// Fail fast while Redis is down: callers have their own retries (the
	// redeliverer, the subscriber's reconnect loop), and a client request
	// must not wait for a publish that the redeliverer will redo anyway.
	ropts.DialerRetries = 1
	ropts.MaxRetries = 1
	c := redis.NewClient(ropts)
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

// ConnectOption sets an optional parameter of Connect's client.
type ConnectOption func(*redis.Client)

// CountCommands counts every command the client sends, by name, in
// commands (a pipeline's each), PINGs aside: what make bench divides by the
// orders it settled.
func CountCommands(commands metrics.Counter) ConnectOption {
	return func(c *redis.Client) { c.AddHook(commandCounter{commands}) }
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
func Check(c *redis.Client) func(context.Context) error {
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
