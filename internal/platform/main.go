package platform

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/go-kit/log"
	"github.com/oklog/run"
	"github.com/redis/go-redis/v9"
)

// Main is the life of a service process: flags from the command line and
// the environment, a logger, then serve until SIGINT or SIGTERM. It exits 0
// on a signal and 1 when serve fails or the configuration is bad.
//
// "name probe [path] [flags]" instead checks the service already running
// with the same configuration (see Probe), for container health checks;
// path defaults to /readyz.
func Main(name, envPrefix string, register func(*flag.FlagSet), serve func(context.Context, log.Logger) error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	register(fs)
	if len(os.Args) > 1 && os.Args[1] == "probe" {
		path, args := "/readyz", os.Args[2:]
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			path, args = args[0], args[1:]
		}
		os.Exit(probe(fs, envPrefix, path, args))
	}
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
	case fs.NArg() > 0:
		logger.Log("msg", "bad configuration", "err", fmt.Sprintf("unexpected argument %q (the one command is probe)", fs.Arg(0)))
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

// probe checks path on the -http.addr that fs is configured with, and gives
// the exit code of a container health check.
func probe(fs *flag.FlagSet, envPrefix, path string, args []string) int {
	if err := ParseFlags(fs, envPrefix, args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	addr := fs.Lookup("http.addr")
	if addr == nil {
		fmt.Fprintf(os.Stderr, "%s has no -http.addr to probe\n", fs.Name())
		return 1
	}
	if err := Probe(context.Background(), addr.Value.String(), path); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// redisLogger adapts a go-kit logger to go-redis's logging interface.
type redisLogger struct{ logger log.Logger }

func (l redisLogger) Printf(_ context.Context, format string, v ...any) {
	l.logger.Log("msg", fmt.Sprintf(format, v...))
}

// ReplicaName names this process among the replicas of a service: the host
// (a pod's name in Kubernetes, a container's id in compose) and the pid.
func ReplicaName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}
