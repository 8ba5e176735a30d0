// Command bench measures the order system on this machine, as make run
// starts it but with every part a process of its own: `make bench`. It runs
// the sweep (each concurrency for a while on a fresh store) and the growth
// run (the same load on a store filled with many orders, and the listing of
// a user's orders there), and prints one table. -h lists its flags.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/orderflow/orderflow/loadgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	concurrency []int
	duration    time.Duration
	rate        float64
	warmup      int
	grow        int
	growC       int
	listUsers   int
	poll        time.Duration
	drain       time.Duration
	jsonOut     bool
	profile     string
}

// result is one measured run.
type result struct {
	Name   string         `json:"name"`
	Stored int            `json:"stored"`
	Report loadgen.Report `json:"report"`
	// PerOrder is what a settled order cost the stores, from the services'
	// counts over the run and its drain: "store_commands_total{...}",
	// "store_documents_total{...}" and "redis_commands_total{...}" series,
	// each divided by the orders settled.
	PerOrder map[string]float64 `json:"perSettledOrder,omitempty"`
}

// results is what the bench prints.
type results struct {
	Date    string         `json:"date"`
	Machine string         `json:"machine"`
	Runs    []result       `json:"runs"`
	List    *listResult    `json:"list,omitempty"`
	Growth  *growthSummary `json:"growth,omitempty"`
}

type listResult struct {
	Stored   int     `json:"stored"`
	Orders   int     `json:"ordersPerUser"`
	Requests int     `json:"requests"`
	P50      float64 `json:"p50Ms"`
	P99      float64 `json:"p99Ms"`
	Max      float64 `json:"maxMs"`
}

type growthSummary struct {
	CreatedRatio float64 `json:"createdPerSecondRatio"`
	SettleRatio  float64 `json:"settleP50Ratio"`
}

func run() error {
	var cfg config
	var cs string
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&cs, "c", "1,16,64", "concurrencies of the sweep")
	fs.DurationVar(&cfg.duration, "d", 20*time.Second, "duration of each measured run")
	fs.Float64Var(&cfg.rate, "rate", 0, "at most this many orders a second in each measured run (0: as many as its clients can)")
	fs.IntVar(&cfg.warmup, "warmup", 200, "orders created at concurrency 4 before each measured run")
	fs.IntVar(&cfg.grow, "grow", 100_000, "orders stored before the growth run (0: no growth run)")
	fs.IntVar(&cfg.growC, "grow.c", 64, "concurrency of the fill; the growth run itself uses the sweep's middle concurrency")
	fs.IntVar(&cfg.listUsers, "list.users", 200, "users whose 50 orders the growth run lists, one request each")
	fs.DurationVar(&cfg.poll, "poll", 5*time.Millisecond, "when an order's status is first asked; each wait after doubles, up to 200ms")
	fs.DurationVar(&cfg.drain, "drain", 30*time.Second, "how long orders may still settle after the load")
	fs.BoolVar(&cfg.jsonOut, "json", false, "print the results as JSON")
	fs.StringVar(&cfg.profile, "profile", "", "folder to save a CPU profile of each service into, taken during each measured run")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	for _, f := range strings.Split(cs, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return fmt.Errorf("-c: %q is not a concurrency", f)
		}
		cfg.concurrency = append(cfg.concurrency, n)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	work, err := os.MkdirTemp("", "orderflow-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin := filepath.Join(work, "bin")
	progress("building the binaries")
	if err := buildBinaries(bin); err != nil {
		return err
	}

	res := results{Date: time.Now().UTC().Format("2006-01-02"), Machine: machine()}
	for i, c := range cfg.concurrency {
		r, err := measure(ctx, cfg, bin, filepath.Join(work, fmt.Sprintf("sweep-%d", i)), c, 0, nil)
		if err != nil {
			return err
		}
		res.Runs = append(res.Runs, r)
	}
	if cfg.grow > 0 {
		mid := cfg.concurrency[len(cfg.concurrency)/2]
		var list *listResult
		r, err := measure(ctx, cfg, bin, filepath.Join(work, "growth"), mid, cfg.grow, &list)
		if err != nil {
			return err
		}
		res.Runs = append(res.Runs, r)
		res.List = list
		for _, base := range res.Runs {
			if base.Stored == 0 && base.Report.Concurrency == mid && base.Report.Settle.P50 > 0 && r.Report.CreatedPerSec > 0 {
				res.Growth = &growthSummary{
					CreatedRatio: base.Report.CreatedPerSec / r.Report.CreatedPerSec,
					SettleRatio:  r.Report.Settle.P50 / base.Report.Settle.P50,
				}
			}
		}
	}
	if cfg.jsonOut {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return res.write(os.Stdout)
}

// measure starts a fresh stack, fills it with stored orders (and then
// lists some users' orders into *list) or warms it up, and measures
// concurrency c for the configured duration.
func measure(ctx context.Context, cfg config, bin, dir string, c, stored int, list **listResult) (result, error) {
	s, err := startStack(bin, dir)
	if err != nil {
		return result{}, err
	}
	defer s.stop()
	base := loadgen.Config{
		BaseURL: s.gatewayURL, Users: 100, Products: []loadgen.Weighted{{ProductID: "1", Weight: 9}, {ProductID: "2", Weight: 1}},
		IdempotencyKeys: true, Poll: cfg.poll, PollMax: 200 * time.Millisecond, Drain: cfg.drain,
	}
	if stored > 0 {
		progress(fmt.Sprintf("filling a fresh store with %d orders at concurrency %d", stored, cfg.growC))
		fill := base
		fill.Concurrency, fill.Count, fill.Poll, fill.Users, fill.UserPrefix = cfg.growC, stored, 0, stored/50, "fill-"
		fill.Progress = progressWriter{every: 10}
		rep, err := loadgen.Run(ctx, fill)
		if err != nil {
			return result{}, err
		}
		if rep.Created != stored {
			return result{}, fmt.Errorf("the fill created %d orders of %d (errors: %v)", rep.Created, stored, rep.Errors)
		}
		progress("waiting for the filled orders to settle")
		quiet(ctx, s)
	} else {
		warm := base
		warm.Concurrency, warm.Count, warm.UserPrefix = 4, cfg.warmup, "warmup-"
		if _, err := loadgen.Run(ctx, warm); err != nil {
			return result{}, err
		}
	}

	name := "sweep"
	if stored > 0 {
		name = "growth"
	}
	progress(fmt.Sprintf("%s: concurrency %d for %v with %d orders stored", name, c, cfg.duration, stored+cfg.warmup*boolInt(stored == 0)))
	load := base
	load.Concurrency, load.Duration, load.Rate, load.UserPrefix, load.Processes = c, cfg.duration, cfg.rate, "load-", s.processes
	load.Progress = progressWriter{every: 5}
	profiled := make(chan error, 1)
	if cfg.profile != "" {
		go func() {
			profiled <- s.profile(ctx, filepath.Join(cfg.profile, fmt.Sprintf("%s-c%d", name, c)), cfg.duration*3/4)
		}()
	} else {
		profiled <- nil
	}
	before, err := s.opCounts(ctx)
	if err != nil {
		return result{}, err
	}
	rep, err := loadgen.Run(ctx, load)
	if perr := <-profiled; perr != nil && err == nil {
		err = perr
	}
	if err != nil {
		return result{}, err
	}
	after, err := s.opCounts(ctx)
	if err != nil {
		return result{}, err
	}
	perOrder := map[string]float64{}
	for series, n := range after {
		if d := n - before[series]; d > 0 && rep.Settled > 0 {
			perOrder[series] = d / float64(rep.Settled)
		}
	}
	// Read after the counts, so that they are not counted.
	serverSettle, err := loadgen.ServerSettle(ctx, http.DefaultClient, s.gatewayURL, rep.SettledIDs, 2000)
	if err != nil {
		return result{}, err
	}
	rep.ServerSettle = &serverSettle
	if list != nil {
		users := make([]string, min(cfg.listUsers, stored/50))
		for i := range users {
			users[i] = fmt.Sprintf("fill-%d", i)
		}
		progress(fmt.Sprintf("listing the 50 orders of %d users", len(users)))
		ds, err := listLatency(ctx, s.gatewayURL, users)
		if err != nil {
			return result{}, err
		}
		slices.Sort(ds)
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		*list = &listResult{Stored: stored, Orders: 50, Requests: len(ds),
			P50: ms(ds[len(ds)/2]), P99: ms(ds[min(len(ds)-1, len(ds)*99/100)]), Max: ms(ds[len(ds)-1])}
	}
	return result{Name: name, Stored: stored, Report: rep, PerOrder: perOrder}, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// quiet waits until the stack has been idle for a second: the work the
// fill left behind is done.
func quiet(ctx context.Context, s *stack) {
	total := func() time.Duration {
		var sum time.Duration
		for _, p := range s.processes {
			d, _ := loadgen.ProcessCPUTime(p.PID)
			sum += d
		}
		return sum
	}
	deadline := time.Now().Add(5 * time.Minute)
	last := total()
	for ctx.Err() == nil && time.Now().Before(deadline) {
		time.Sleep(time.Second)
		now := total()
		if now-last < 50*time.Millisecond {
			return
		}
		last = now
	}
}

func (r results) write(w io.Writer) error {
	fmt.Fprintf(w, "orderflow bench, %s, %s\n\n", r.Date, r.Machine)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tstored\tC\tcreated/s\tPOST p50/p99 ms\tsettle p50/p90/p99 ms\tserver settle p50/p90/p99 ms\tunsettled\terrors\tservices CPU ms/order\tstore CPU ms/order\tRedis CPU ms/order\t")
	for _, run := range r.Runs {
		rep := run.Report
		var services, store float64
		redis := "-"
		for _, c := range rep.CPU {
			switch c.Name {
			case "gateway", "ordersvc", "paymentsvc":
				services += c.MsPerSettled
			case "store":
				store = c.MsPerSettled
			case "redis":
				redis = fmt.Sprintf("%.2f", c.MsPerSettled)
			}
		}
		var ss loadgen.Percentiles
		if rep.ServerSettle != nil {
			ss = *rep.ServerSettle
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.1f / %.1f\t%.0f / %.0f / %.0f\t%.0f / %.0f / %.0f\t%d\t%d\t%.2f\t%.2f\t%s\t\n",
			run.Name, run.Stored, rep.Concurrency, rep.CreatedPerSec, rep.Post.P50, rep.Post.P99,
			rep.Settle.P50, rep.Settle.P90, rep.Settle.P99, ss.P50, ss.P90, ss.P99, rep.Unsettled, rep.ErrorCount(), services, store, redis)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, run := range r.Runs {
		writeOps(w, run)
	}
	if r.Growth != nil {
		fmt.Fprintf(w, "\ngrowth: an empty store takes %.2fx the orders per second of the filled one; settle p50 is %.2fx the empty store's\n",
			r.Growth.CreatedRatio, r.Growth.SettleRatio)
	}
	if r.List != nil {
		fmt.Fprintf(w, "list: GET /orders/{userId} of a user with %d orders, %d orders stored, %d requests: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
			r.List.Orders, r.List.Stored, r.List.Requests, r.List.P50, r.List.P99, r.List.Max)
	}
	fmt.Fprintln(w, "\nCPU per settled order is user+system time from /proc over the run and its drain, of each process below its run; services are gateway+ordersvc+paymentsvc, the store is the embedded FerretDB, Redis its redis-server (- when it runs inside the store's process).")
	fmt.Fprintln(w, "Server settle is created to last changed, by the order's own times; the client's settle adds its polling. Commands per settled order are the services' own counts over the run and its drain.")
	return nil
}

// writeOps writes what a settled order of the run cost: the CPU of each
// process, MongoDB commands by kind and collection (and the documents they
// carried), and Redis commands by kind.
func writeOps(w io.Writer, run result) {
	type op struct {
		name       string
		n, docs    float64
		isRedis    bool
		collection string
	}
	var ops []op
	var store, docs, redis float64
	for series, n := range run.PerOrder {
		kind, labels, _ := strings.Cut(strings.TrimSuffix(series, "}"), "{")
		l := map[string]string{}
		for _, kv := range strings.Split(labels, ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				l[k] = strings.Trim(v, `"`)
			}
		}
		switch kind {
		case "store_commands_total":
			store += n
			d := run.PerOrder[strings.Replace(series, "store_commands_total", "store_documents_total", 1)]
			docs += d
			ops = append(ops, op{name: l["command"] + " " + l["collection"], n: n, docs: d, collection: l["collection"]})
		case "redis_commands_total":
			redis += n
			ops = append(ops, op{name: l["command"], n: n, isRedis: true})
		}
	}
	slices.SortFunc(ops, func(a, b op) int {
		if a.isRedis != b.isRedis {
			return boolInt(a.isRedis) - boolInt(b.isRedis)
		}
		return strings.Compare(a.name, b.name)
	})
	fmt.Fprintf(w, "\n%s, %d stored, C=%d, per settled order: %.2f MongoDB commands carrying %.2f documents, %.2f Redis commands\n",
		run.Name, run.Stored, run.Report.Concurrency, store, docs, redis)
	// In the order's way through them; a process not named here last.
	cpu := slices.Clone(run.Report.CPU)
	way := []string{"gateway", "ordersvc", "paymentsvc", "store", "redis"}
	rank := func(c loadgen.ProcessCPU) int {
		if i := slices.Index(way, c.Name); i >= 0 {
			return i
		}
		return len(way)
	}
	slices.SortStableFunc(cpu, func(a, b loadgen.ProcessCPU) int { return rank(a) - rank(b) })
	for _, c := range cpu {
		fmt.Fprintf(w, "  cpu   %-28s %5.2f ms\n", c.Name, c.MsPerSettled)
	}
	for _, o := range ops {
		if o.isRedis {
			fmt.Fprintf(w, "  redis %-28s %5.2f\n", o.name, o.n)
		} else {
			fmt.Fprintf(w, "  store %-28s %5.2f  (%.2f documents)\n", o.name, o.n, o.docs)
		}
	}
}

// machine describes this machine: its CPU model and count, and Go.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%d CPUs (%s), %s %s/%s", runtime.NumCPU(), model, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func progress(msg string) { fmt.Fprintf(os.Stderr, "bench: %s\n", msg) }

// progressWriter passes on every n-th progress line of a run.
type progressWriter struct{ every int }

func (p progressWriter) Write(b []byte) (int, error) {
	var secs float64
	if _, err := fmt.Sscanf(strings.TrimSpace(string(b)), "%fs", &secs); err == nil && int(secs)%p.every != 0 {
		return len(b), nil
	}
	return os.Stderr.Write(b)
}
