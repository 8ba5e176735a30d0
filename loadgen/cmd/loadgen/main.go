// Command loadgen sends orders to the public API at any base URL (make run,
// docker compose, a Kubernetes port-forward) and reports how fast they were
// taken and settled: `make load`. -h lists its flags.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/orderflow/orderflow/loadgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		cfg       loadgen.Config
		products  string
		final     string
		asJSON    bool
		quiet     bool
		sample    int
		processes processFlag
	)
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.StringVar(&cfg.BaseURL, "url", "http://localhost:7000", "base URL of the public API")
	fs.IntVar(&cfg.Concurrency, "c", 4, "how many clients create orders at once")
	fs.DurationVar(&cfg.Duration, "d", 20*time.Second, "how long to send orders (0: until -n are created)")
	fs.IntVar(&cfg.Count, "n", 0, "stop after this many orders are created (0: no limit)")
	fs.Float64Var(&cfg.Rate, "rate", 0, "at most this many orders a second over all clients (0: as many as they can)")
	fs.IntVar(&cfg.Users, "users", 100, "how many userIds the orders spread over")
	fs.StringVar(&cfg.UserPrefix, "user.prefix", "load-", "start of every userId")
	fs.StringVar(&products, "products", "1:9,2:1", "productIds and their weights (product 1 is paid, others are declined)")
	fs.BoolVar(&cfg.IdempotencyKeys, "idempotency", true, "send an Idempotency-Key with every order")
	fs.DurationVar(&cfg.Poll, "poll", 5*time.Millisecond, "when a created order's status is first asked; each wait after doubles up to -poll.max, until it is final (0: do not follow orders)")
	fs.DurationVar(&cfg.PollMax, "poll.max", 200*time.Millisecond, "the longest wait between two asks of one order's status")
	fs.DurationVar(&cfg.Drain, "drain", 30*time.Second, "how long pending orders may still settle after the load")
	fs.StringVar(&final, "final", strings.Join(loadgen.DefaultFinal, ","), "orderStatus values that are final")
	fs.Var(&processes, "pid", "name=pid of a process whose CPU to report per settled order (repeatable)")
	fs.IntVar(&sample, "server.settle", 2000, "after the run, read up to this many settled orders (GET /orders/one/{id}) and report how long they took to settle by their own times (0: do not)")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&quiet, "q", false, "no progress line every second")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if cfg.Products, err = parseProducts(products); err != nil {
		return err
	}
	cfg.Final = strings.Split(final, ",")
	cfg.Processes = processes
	if !quiet {
		cfg.Progress = os.Stderr
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rep, err := loadgen.Run(ctx, cfg)
	if err != nil && ctx.Err() == nil {
		return err
	}
	if sample > 0 && len(rep.SettledIDs) > 0 && ctx.Err() == nil {
		s, err := loadgen.ServerSettle(ctx, http.DefaultClient, cfg.BaseURL, rep.SettledIDs, sample)
		if err != nil {
			return fmt.Errorf("server settle: %w", err)
		}
		rep.ServerSettle = &s
	}
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(os.Stdout)
}

func parseProducts(s string) ([]loadgen.Weighted, error) {
	var out []loadgen.Weighted
	for _, part := range strings.Split(s, ",") {
		id, w, ok := strings.Cut(part, ":")
		n, err := strconv.Atoi(w)
		if !ok || id == "" || err != nil || n < 1 {
			return nil, fmt.Errorf("-products: %q is not productId:weight", part)
		}
		out = append(out, loadgen.Weighted{ProductID: id, Weight: n})
	}
	return out, nil
}

// processFlag collects -pid name=pid.
type processFlag []loadgen.Process

func (p *processFlag) String() string { return "" }

func (p *processFlag) Set(v string) error {
	name, pid, ok := strings.Cut(v, "=")
	n, err := strconv.Atoi(pid)
	if !ok || name == "" || err != nil || n < 1 {
		return fmt.Errorf("want name=pid, have %q", v)
	}
	if _, err := loadgen.ProcessCPUTime(n); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	*p = append(*p, loadgen.Process{Name: name, PID: n})
	return nil
}
