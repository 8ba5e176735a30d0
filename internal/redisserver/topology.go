package redisserver

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/orderflow/orderflow/internal/freeport"
)

// SentinelOptions are how a Sentinel watches its master.
type SentinelOptions struct {
	Master     string        // the name clients ask for
	MasterAddr string        // where the master is at first
	Quorum     int           // Sentinels that must agree the master is down
	DownAfter  time.Duration // how long a master may not answer before it is down
	// FailoverTimeout bounds a failover (and the wait before another).
	FailoverTimeout time.Duration
}

// StartSentinel starts redis-server as a Sentinel on addr, with its config
// file (which a Sentinel rewrites) in dir, and waits until it answers.
func StartSentinel(addr string, o SentinelOptions, dir string, logs io.Writer) (*Server, error) {
	s, err := newServer(addr, "", logs)
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(o.MasterAddr)
	s.conf = filepath.Join(dir, "sentinel-"+strings.ReplaceAll(s.Addr, ":", "-")+".conf")
	conf := fmt.Sprintf("sentinel monitor %[1]s %[2]s %[3]s %[4]d\n"+
		"sentinel down-after-milliseconds %[1]s %[5]d\n"+
		"sentinel failover-timeout %[1]s %[6]d\n",
		o.Master, host, port, o.Quorum, o.DownAfter.Milliseconds(), o.FailoverTimeout.Milliseconds())
	if err := os.WriteFile(s.conf, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	return s, s.Restart()
}

// StartCluster starts a Redis Cluster of masters nodes, each with replicas
// replicas, on free ports of host, its node files in dir, and waits until
// every node says the cluster is ok. Its masters are the first servers.
func StartCluster(host string, masters, replicas int, dir string, logs io.Writer) ([]*Server, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, ErrNotInstalled
	}
	if _, err := exec.LookPath("redis-cli"); err != nil {
		return nil, fmt.Errorf("redis-cli not found on PATH (Debian: apt-get install redis-tools)")
	}
	var nodes []*Server
	stop := func() {
		for _, n := range nodes {
			n.Kill()
		}
	}
	create := []string{"--cluster", "create"}
	for range masters * (1 + replicas) {
		s, err := newServer(net.JoinHostPort(host, "0"), "", logs)
		if err != nil {
			stop()
			return nil, err
		}
		// The cluster bus listens on a port of its own, by default the
		// node's plus 10000: picked as the node's is, so that nothing else
		// takes it first.
		bus, err := freeport.Pick(host, 1)
		if err != nil {
			stop()
			return nil, err
		}
		s.args = []string{"--cluster-enabled", "yes", "--cluster-port", bus[0], "--cluster-node-timeout", "1000",
			"--cluster-config-file", filepath.Join(dir, "nodes-"+strings.ReplaceAll(s.Addr, ":", "-")+".conf"),
			// A replica syncs at once, and takes over however long its
			// master was away.
			"--repl-diskless-sync-delay", "0", "--cluster-replica-validity-factor", "0",
			"--dir", dir} // where a replica keeps what it syncs
		if err := s.Restart(); err != nil {
			stop()
			return nil, err
		}
		nodes = append(nodes, s)
		create = append(create, s.Addr)
	}
	create = append(create, "--cluster-replicas", fmt.Sprint(replicas), "--cluster-yes")
	if out, err := exec.Command("redis-cli", create...).CombinedOutput(); err != nil {
		stop()
		return nil, fmt.Errorf("redis-cli --cluster create: %w: %s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range nodes {
		for !clusterOK(n.Addr) || !synced(n.Addr) {
			if time.Now().After(deadline) {
				stop()
				return nil, fmt.Errorf("cluster not ok on %s after 30s", n.Addr)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nodes, nil
}

func clusterOK(addr string) bool {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	info, err := c.ClusterInfo(ctx).Result()
	return err == nil && strings.Contains(info, "cluster_state:ok")
}

// synced reports whether the server at addr is a master, or a replica
// that has its master's data: one that can take over.
func synced(addr string) bool {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	info, err := c.Info(ctx, "replication").Result()
	return err == nil && (strings.Contains(info, "role:master") || strings.Contains(info, "master_link_status:up"))
}

// WaitSynced waits until the server at addr is a master, or a replica
// that has its master's data, for at most timeout.
func WaitSynced(addr string, timeout time.Duration) error {
	for deadline := time.Now().Add(timeout); !synced(addr); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("the replica at %s did not sync within %v", addr, timeout)
		}
	}
	return nil
}
