package freeport_test

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/internal/freeport"
)

// The ports are different, outside the range the kernel gives outgoing
// connections, and free to listen on once Pick returns.
func TestPickGivesDifferentPortsOutsideTheEphemeralRange(t *testing.T) {
	first, last := 32768, 60999
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		f := strings.Fields(string(b))
		first, _ = strconv.Atoi(f[0])
		last, _ = strconv.Atoi(f[1])
	}
	if first <= 10_000 && last >= 65535 {
		t.Skip("the kernel's ephemeral range leaves no port from 10000 up outside it")
	}
	ports, err := freeport.Pick("127.0.0.1", 20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range ports {
		n, _ := strconv.Atoi(p)
		if seen[p] || n < 10_000 || (n >= first && n <= last) {
			t.Errorf("port %s: want different ports from 10000 up, outside %d-%d, have %v", p, first, last, ports)
		}
		seen[p] = true
		ln, err := net.Listen("tcp", "127.0.0.1:"+p)
		if err != nil {
			t.Errorf("port %s is not free: %v", p, err)
			continue
		}
		ln.Close()
	}
	if _, err := freeport.Pick("127.0.0.1", -1); err == nil {
		t.Error("a negative count: want an error")
	}
}
