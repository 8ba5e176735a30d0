package platform

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"syscall"

	"github.com/go-kit/log"
	"github.com/oklog/run"
	"github.com/redis/go-redis/v9"
)

// Main is the life of a service process: flags from the command line and
// the environment, a logger, then serve until SIGINT or SIGTERM. It exits 0
// on a signal and 1 when serve fails or the configuration is bad.
func Main(name, envPrefix string, register func(*flag.FlagSet), serve func(context.Context, log.Logger) error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	register(fs)
	logger := NewLogger(os.Stderr, name)
	// go-redis reports connection trouble through a process-wide logger;
	// route it into this one so every line of the process is logfmt.
	redis.SetLogger(redisLogger{log.With(logger, "component", "go-redis")})
	switch err := ParseFlags(fs, envPrefix, os.Args[1:]); {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		logger.Log("msg", "bad configuration", "err", err)
		os.Exit(1)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var g run.Group
	g.Add(func() error { return serve(ctx, logger) }, func(error) { cancel() })
	g.Add(run.SignalHandler(ctx, syscall.SIGINT, syscall.SIGTERM))
	err := g.Run()
	if sig := (*run.SignalError)(nil); errors.As(err, &sig) {
		logger.Log("msg", "stopped", "signal", sig.Signal)
		return
	}
	logger.Log("msg", "exiting", "err", err)
	os.Exit(1)
}

// redisLogger adapts a go-kit logger to go-redis's logging interface.
type redisLogger struct{ logger log.Logger }

func (l redisLogger) Printf(_ context.Context, format string, v ...any) {
	l.logger.Log("msg", fmt.Sprintf(format, v...))
}
