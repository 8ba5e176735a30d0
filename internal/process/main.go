// Package process is the life of a service process: flags with environment
// defaults, the logger, running until a signal, and the probe command that
// container health checks run.
package process

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/go-kit/log"
	"github.com/oklog/run"

	"github.com/orderflow/orderflow/internal/httpserver"
	"github.com/orderflow/orderflow/internal/telemetry"
)

// Command is a command of a service's binary besides serving, such as
// "gateway token".
type Command struct {
	Name    string
	Args    string // after the name, for the usage: "-sub USER [-ttl 1h] [flags]"
	Summary string
	// Run runs the command with the arguments after its name, on the
	// service's flags fs (already defined, not parsed), and returns the
	// exit code.
	Run func(fs *flag.FlagSet, envPrefix string, args []string, stdout, stderr io.Writer) int
}

// Serve is what a service does once configured: run until ctx is
// cancelled, logging to logger and tracing with tracing (nil: off).
type Serve func(ctx context.Context, logger log.Logger, tracing *telemetry.Tracing) error

// Main runs a service process: flags from the command line and the
// environment, a logger, tracing, then serve until SIGINT or SIGTERM. It
// exits 0 on a signal or -h, and 1 when serve fails or the configuration is
// bad; the traces are flushed first either way.
//
// "name probe [path] [flags]" instead checks the service already running
// with the same configuration (see httpserver.Probe), for container health
// checks; path defaults to /readyz. "name <command> ..." runs one of
// commands.
func Main(name, envPrefix string, register func(*flag.FlagSet), serve Serve, commands ...Command) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	register(fs)
	args := os.Args[1:]
	if len(args) == 1 && (args[0] == "-version" || args[0] == "--version") {
		fmt.Println(Version(name))
		os.Exit(0)
	}
	if len(args) > 0 && args[0] == "probe" {
		os.Exit(probe(fs, envPrefix, args[1:], os.Stderr))
	}
	for _, c := range commands {
		if len(args) > 0 && args[0] == c.Name {
			os.Exit(c.Run(fs, envPrefix, args[1:], os.Stdout, os.Stderr))
		}
	}
	logger := NewLogger(os.Stderr, name)
	collectLess()
	fs.Usage = func() { printMainUsage(fs.Output(), fs, envPrefix, commands...) }
	switch err := ParseFlags(fs, envPrefix, args); {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		logger.Log("msg", "bad configuration", "err", err)
		os.Exit(1)
	case fs.NArg() > 0:
		logger.Log("msg", "bad configuration", "err", fmt.Sprintf("unexpected argument %q (-h lists the commands)", fs.Arg(0)))
		os.Exit(1)
	}
	tracing, err := telemetry.Setup(context.Background(), name)
	if err != nil {
		logger.Log("msg", "bad configuration", "err", err)
		os.Exit(1)
	}
	os.Exit(Run(logger, tracing, serve, syscall.SIGINT, syscall.SIGTERM))
}

// gcPercent is how much the heap grows past what a collection left live
// before the next collection starts, unless GOGC says otherwise: four times,
// where Go's default is once. The services keep some megabytes live, so
// their peak stays small, and GOMEMLIMIT (which the chart sets to the
// container's memory limit) makes collections come sooner near it. Under
// load this halves what the collector costs: make bench's rate at
// concurrency 16 rose from 195-203 to 224-251 orders/s, runs alternated, the
// embedded FerretDB of devstack gaining most (4.1-4.6 to 3.2-3.8 ms of CPU
// per order).
const gcPercent = 400

func collectLess() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
}

// Run runs serve until one of signals comes or serve fails, flushes the
// traces, and returns the process's exit code: 0 on a signal, 1 on a
// failure.
func Run(logger log.Logger, tracing *telemetry.Tracing, serve Serve, signals ...os.Signal) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var g run.Group
	g.Add(func() error { return serve(ctx, logger, tracing) }, func(error) { cancel() })
	g.Add(run.SignalHandler(ctx, signals...))
	err := g.Run()

	flush, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	if ferr := tracing.Shutdown(flush); ferr != nil {
		logger.Log("msg", "traces not flushed", "err", ferr)
	}
	if sig := (*run.SignalError)(nil); errors.As(err, &sig) {
		logger.Log("msg", "stopped", "signal", sig.Signal)
		return 0
	}
	logger.Log("msg", "exiting", "err", err)
	return 1
}

// printMainUsage is the -h of a service: how to run it, its probe command,
// then its flags.
func printMainUsage(w io.Writer, fs *flag.FlagSet, envPrefix string, commands ...Command) {
	fmt.Fprintf(w, "Usage:\n  %[1]s [flags]\n      serve until SIGINT or SIGTERM\n  %[1]s -version\n      print the version and exit\n  %[1]s probe [path] [flags]\n      ask the %[1]s running with these flags for path (default /readyz); exit 0 on 200, 1 otherwise\n", fs.Name())
	for _, c := range commands {
		fmt.Fprintf(w, "  %s %s %s\n      %s\n", fs.Name(), c.Name, c.Args, c.Summary)
	}
	fmt.Fprintln(w)
	PrintUsage(w, fs, envPrefix)
}

// probe runs "name probe [path] [flags]" and returns its exit code: 0 when
// the service on the configured -http.addr answers path with 200 (or when
// -h asked for help), 1 otherwise.
func probe(fs *flag.FlagSet, envPrefix string, args []string, stderr io.Writer) int {
	path := "/readyz"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		path, args = args[0], args[1:]
	}
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s probe [path] [flags]\n  Asks the %[1]s running with these flags for path (default /readyz) on its -http.addr\n  over loopback; exits 0 when it answers 200, 1 otherwise.\n\n", fs.Name())
		PrintUsage(stderr, fs, envPrefix)
	}
	switch err := ParseFlags(fs, envPrefix, args); {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintln(stderr, err)
		return 1
	}
	addr := fs.Lookup("http.addr")
	if addr == nil {
		fmt.Fprintf(stderr, "%s has no -http.addr to probe\n", fs.Name())
		return 1
	}
	if err := httpserver.Probe(context.Background(), addr.Value.String(), path); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// version and commit are set at link time by the Dockerfile, from its build
// arguments VERSION and COMMIT (-ldflags "-X
// github.com/orderflow/orderflow/internal/process.version=..."): an image is
// built without .git, so its build info has no revision. Left empty,
// Version falls back to the build info.
var version, commit string

// Version describes the binary name: its version, the commit it was built
// from (with "+dirty" when the tree had changes) and the Go release. The
// version and commit set at link time come first; the build info's module
// version and VCS revision stand in for them.
func Version(name string) string {
	v, rev, dirty := "(devel)", "unknown", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision":
				rev = s.Value
			case s.Key == "vcs.modified" && s.Value == "true":
				dirty = "+dirty"
			}
		}
	}
	if version != "" {
		v = version
	}
	if commit != "" {
		rev, dirty = commit, ""
	}
	return fmt.Sprintf("%s %s (commit %s%s, %s)", name, v, rev, dirty, runtime.Version())
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

// AddContext adds to g an actor that runs until ctx is done, so cancelling
// ctx stops the group. It returns a context the other actors use, which is
// cancelled when the group stops.
func AddContext(ctx context.Context, g *run.Group) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	g.Add(func() error {
		<-ctx.Done()
		return nil
	}, func(error) { cancel() })
	return ctx
}
