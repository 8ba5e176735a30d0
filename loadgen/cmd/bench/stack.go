package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/orderflow/orderflow/internal/freeport"
	"github.com/orderflow/orderflow/loadgen"
)

// stack is the system as make run starts it, but with every part a process
// of its own so that the CPU of each can be read: devstack serving the
// embedded FerretDB and a redis-server child, and the three services.
type stack struct {
	bin, dir   string
	gatewayURL string
	debug      map[string]string // pprof address of each service
	metrics    []string          // /metrics of the services that use the stores
	procs      []*exec.Cmd
	processes  []loadgen.Process
	logs       *os.File
}

// buildBinaries builds devstack and the three services into dir.
func buildBinaries(dir string) error {
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator),
		"./devstack/cmd/devstack", "./gateway/cmd/gateway", "./ordersvc/cmd/ordersvc", "./paymentsvc/cmd/paymentsvc")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	return nil
}

// startStack starts a stack on a fresh store in dir.
func startStack(bin, dir string) (*stack, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logs, err := os.Create(filepath.Join(dir, "stack.log"))
	if err != nil {
		return nil, err
	}
	s := &stack{bin: bin, dir: dir, logs: logs, debug: map[string]string{}}
	ports, err := freeport.Pick("127.0.0.1", 9)
	if err != nil {
		return nil, err
	}
	mongo, redis := "127.0.0.1:"+ports[0], "127.0.0.1:"+ports[1]
	orders, payments, gateway := "127.0.0.1:"+ports[2], "127.0.0.1:"+ports[3], "127.0.0.1:"+ports[4]
	s.gatewayURL = "http://" + gateway
	s.metrics = []string{"http://" + orders + "/metrics", "http://" + payments + "/metrics"}

	s.debug["store"] = "127.0.0.1:" + ports[8]
	store, err := s.start("devstack", nil, "-stores.only", "-debug.addr", s.debug["store"], "-data.dir", filepath.Join(dir, "data"), "-mongo.addr", mongo, "-redis.addr", redis)
	if err != nil {
		return nil, err
	}
	if err := waitDial(mongo, redis); err != nil {
		s.stop()
		return nil, err
	}
	s.processes = append(s.processes, loadgen.Process{Name: "store", PID: store.Process.Pid})
	// Without redis-server installed, devstack serves Redis in its own
	// process, whose CPU is then the store's.
	if pid, err := child(store.Process.Pid, "redis-server"); err == nil {
		s.processes = append(s.processes, loadgen.Process{Name: "redis", PID: pid})
	}

	mongoURI, redisURL := "mongodb://"+mongo, "redis://"+redis+"/0"
	for i, svc := range []struct {
		name, prefix string
		env          []string
		addr         string
	}{
		{"ordersvc", "ORDERSVC", []string{"ORDERSVC_HTTP_ADDR=" + orders, "ORDERSVC_MONGO_URI=" + mongoURI, "ORDERSVC_REDIS_URL=" + redisURL}, orders},
		{"paymentsvc", "PAYMENTSVC", []string{"PAYMENTSVC_HTTP_ADDR=" + payments, "PAYMENTSVC_MONGO_URI=" + mongoURI, "PAYMENTSVC_REDIS_URL=" + redisURL}, payments},
		// The load's many users share one address: the gateway limits no client.
		{"gateway", "GATEWAY", []string{"GATEWAY_HTTP_ADDR=" + gateway, "GATEWAY_ORDERSVC_URL=http://" + orders, "GATEWAY_RATELIMIT_RATE=0"}, gateway},
	} {
		s.debug[svc.name] = "127.0.0.1:" + ports[5+i]
		// One thread of Go code per service, as the chart and compose run
		// them (the chart's templates/_helpers.tpl says why).
		env := append(svc.env, "GOMAXPROCS=1", svc.prefix+"_DEBUG_ADDR="+s.debug[svc.name])
		cmd, err := s.start(svc.name, env)
		if err != nil {
			s.stop()
			return nil, err
		}
		if err := waitReady("http://" + svc.addr + "/readyz"); err != nil {
			s.stop()
			return nil, fmt.Errorf("%s: %w (log: %s)", svc.name, err, logs.Name())
		}
		s.processes = append(s.processes, loadgen.Process{Name: svc.name, PID: cmd.Process.Pid})
	}
	return s, nil
}

func (s *stack) start(name string, env []string, args ...string) (*exec.Cmd, error) {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s.procs = append(s.procs, cmd)
	return cmd, nil
}

// stop stops the services, then the store, as SIGTERM does.
func (s *stack) stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		_ = p.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = p.Process.Kill()
			<-done
		}
	}
	s.procs = nil
	s.logs.Close()
}

func waitDial(addrs ...string) error {
	deadline := time.Now().Add(60 * time.Second)
	for _, a := range addrs {
		for {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("nothing answers on %s", a)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

func waitReady(url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("never ready")
}

// child returns the pid of parent's child process called name. A child is
// listed under the thread that started it, which in a Go process may be any
// of them.
func child(parent int, name string) (int, error) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		lists, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", parent))
		for _, list := range lists {
			b, _ := os.ReadFile(list)
			for _, f := range strings.Fields(string(b)) {
				pid, _ := strconv.Atoi(f)
				comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
				if strings.TrimSpace(string(comm)) == name {
					return pid, nil
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return 0, fmt.Errorf("no %s child of %d", name, parent)
}

// listLatency asks for the orders of each user once, one request at a time,
// and returns the latencies.
func listLatency(ctx context.Context, base string, users []string) ([]time.Duration, error) {
	var out []time.Duration
	client := &http.Client{Timeout: 10 * time.Second}
	for _, u := range users {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/orders/"+u+"?limit=50", nil)
		begin := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET /orders/%s: %d", u, resp.StatusCode)
		}
		out = append(out, time.Since(begin))
	}
	return out, nil
}

// profile saves a CPU profile of every service, taken over d, into dir.
func (s *stack) profile(ctx context.Context, dir string, d time.Duration) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	errs := make(chan error, len(s.debug))
	for name, addr := range s.debug {
		go func() {
			url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, int(d.Seconds()))
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			f, err := os.Create(filepath.Join(dir, name+".pprof"))
			if err != nil {
				errs <- err
				return
			}
			_, err = io.Copy(f, resp.Body)
			f.Close()
			errs <- err
		}()
	}
	for range s.debug {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

// opCounts reads, from the services' /metrics, how many commands they sent
// MongoDB (by command and collection, with the documents they carried) and
// Redis (by command) so far.
func (s *stack) opCounts(ctx context.Context) (map[string]float64, error) {
	counts := map[string]float64{}
	for _, url := range s.metrics {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(b), "\n") {
			series, value, ok := strings.Cut(line, " ")
			if !ok || strings.HasPrefix(line, "#") {
				continue
			}
			// ordersvc_store_commands_total{...} -> store_commands_total{...}
			_, series, _ = strings.Cut(series, "_")
			if !strings.HasPrefix(series, "store_commands_total{") && !strings.HasPrefix(series, "store_documents_total{") && !strings.HasPrefix(series, "redis_commands_total{") {
				continue
			}
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %w", url, line, err)
			}
			counts[series] += v
		}
	}
	return counts, nil
}
