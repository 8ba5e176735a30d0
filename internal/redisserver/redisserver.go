// Package redisserver runs redis-server as a child process, for the local
// stack and for tests that kill it and start it again as Redis restarts
// look to clients. Its lines reach the process's log as logfmt.
package redisserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/internal/freeport"
	"github.com/orderflow/orderflow/internal/process"
	"github.com/redis/go-redis/v9"
)

// Server is a redis-server child process that can be stopped and
// started again on the same address, as a Redis restart looks to clients.
type Server struct {
	Addr     string
	Password string // required of clients when not empty
	logs     io.Writer
	conf     string   // the config file a Sentinel runs from, first of its arguments
	args     []string // beyond the address, persistence and password
	cmd      *exec.Cmd
	done     chan struct{}
}

// ErrNotInstalled means redis-server is not on PATH.
var ErrNotInstalled = errors.New("redis-server not found on PATH (Debian: apt-get install redis-server)")

// Start starts redis-server on addr ("127.0.0.1:0" picks a free
// port) without persistence, requiring password unless it is empty, with
// args besides ("--replicaof", host, port...), and waits until it answers
// PING.
func Start(addr, password string, logs io.Writer, args ...string) (*Server, error) {
	s, err := newServer(addr, password, logs)
	if err != nil {
		return nil, err
	}
	s.args = args
	return s, s.Restart()
}

func newServer(addr, password string, logs io.Writer) (*Server, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, ErrNotInstalled
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("redis address %q: %w", addr, err)
	}
	if port == "0" {
		ports, err := freeport.Pick(host, 1)
		if err != nil {
			return nil, err
		}
		port = ports[0]
	}
	return &Server{Addr: net.JoinHostPort(host, port), Password: password, logs: logs}, nil
}

// Restart starts the server again, after Kill or Stop.
func (s *Server) Restart() error {
	host, port, _ := net.SplitHostPort(s.Addr)
	var args []string
	if s.conf != "" {
		args = append(args, s.conf, "--sentinel")
	}
	args = append(args, "--bind", host, "--port", port,
		"--save", "", "--appendonly", "no",
		"--daemonize", "no", "--loglevel", "warning")
	if s.Password != "" {
		args = append(args, "--requirepass", s.Password)
	}
	cmd := exec.Command("redis-server", append(args, s.args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	go logRedis(out, process.NewLogger(s.logs, "redis-server"))
	// The child dies with its parent, so nothing outlives a crashed run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.done) }()

	client := redis.NewClient(&redis.Options{Addr: s.Addr, Password: s.Password, MaxRetries: -1})
	defer client.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := client.Ping(ctx).Err()
		cancel()
		select {
		case <-s.done:
			return fmt.Errorf("redis-server on %s exited at start (port busy?)", s.Addr)
		default:
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("redis-server on %s did not answer: %w", s.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the server and waits until it has exited.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Kill kills the server at once, as a crash would.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// logRedis logs each line redis-server writes as a logfmt line of its own:
// "pid:role date time # text" becomes level and msg.
func logRedis(r io.Reader, logger log.Logger) {
	levels := map[string]string{"#": "warning", "*": "notice", "-": "verbose", ".": "debug"}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		level, msg := "", line
		for mark, name := range levels {
			if _, text, ok := strings.Cut(line, " "+mark+" "); ok {
				level, msg = name, text
				break
			}
		}
		logger.Log("level", level, "msg", msg)
	}
}
