package freeport_test

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/internal/freeport"
)

// The ports are different, below the range the kernel gives outgoing
// connections, and free to listen on once Pick returns.
func TestPickGivesDifferentPortsBelowTheEphemeralRange(t *testing.T) {
	ports, err := freeport.Pick("127.0.0.1", 20)
	if err != nil {
		t.Fatal(err)
	}
	start := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		start, _ = strconv.Atoi(strings.Fields(string(b))[0])
	}
	seen := map[string]bool{}
	for _, p := range ports {
		n, _ := strconv.Atoi(p)
		if seen[p] || n < 10_000 || n >= start {
			t.Errorf("port %s: want different ports from 10000 to %d, have %v", p, start-1, ports)
		}
		seen[p] = true
		ln, err := net.Listen("tcp", "127.0.0.1:"+p)
		if err != nil {
			t.Errorf("port %s is not free: %v", p, err)
			continue
		}
		ln.Close()
	}
}
